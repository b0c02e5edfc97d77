import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startRole, type ServiceProcess } from './processes.ts';

/**
 * A Kafka outage must not take the API out of its Service: redirects and
 * creates work without it (clicks wait in the buffer), so /readyz stays 200.
 */
let api: ServiceProcess;
const dataDir = mkdtempSync(join(tmpdir(), 'readiness-'));

beforeAll(async () => {
  const port = await freePort();
  // Nothing listens on port 1: every Kafka request fails.
  api = await startRole('api-without-kafka', 'api', port, {
    PORT: String(port),
    KAFKA_BROKERS: '127.0.0.1:1',
    DATA_DIR: dataDir,
    // Its own keys (the create rate limit counts per client address and minute in Redis,
    // which the other suites' creates from 127.0.0.1 would otherwise share).
    NAME_PREFIX: `readiness-${process.pid}.`,
    LOG_LEVEL: 'fatal',
  });
}, 90_000);

afterAll(async () => {
  await api?.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

it('stays ready, creates and redirects while Kafka is unreachable', async () => {
  expect((await fetch(`${api.url}/readyz`)).status).toBe(200);
  const created = await fetch(`${api.url}/urls`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: 'https://example.com/no-kafka' }),
  });
  expect(created.status).toBe(201);
  const { code } = (await created.json()) as { code: string };
  const redirect = await fetch(`${api.url}/${code}`, { redirect: 'manual' });
  expect(redirect.headers.get('location')).toBe('https://example.com/no-kafka');
  expect((await fetch(`${api.url}/readyz`)).status).toBe(200);
});
