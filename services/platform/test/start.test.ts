import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serverAddress } from '@platform/kit/testing';

const START = fileURLToPath(new URL('../src/start.ts', import.meta.url));
const BASE = 'http://127.0.0.1:8081';

/** Runs `npm start`'s script and resolves with it once it prints the ready banner. */
async function launch(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; banner: string }> {
  const child = spawn(process.execPath, [START], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  launched.add(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 120_000;
  while (!/platform running on/.test(output)) {
    if (child.exitCode !== null) throw new Error(`start exited early:\n${output}`);
    if (Date.now() > deadline) throw new Error(`no banner in 120 s:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, banner: output };
}

const launched = new Set<ChildProcess>();
afterEach(async () => {
  await Promise.all([...launched].map(stop));
});

async function stop(child: ChildProcess): Promise<number | null> {
  launched.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  return exited;
}

async function shortenAndFollow(): Promise<void> {
  const created = await fetch(`${BASE}/urls`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: 'https://example.com/launched' }),
  });
  expect(created.status).toBe(201);
  const { code } = (await created.json()) as { code: string };
  const redirect = await fetch(`${BASE}/${code}`, { redirect: 'manual' });
  expect(redirect.status).toBe(301);
  expect(redirect.headers.get('location')).toBe('https://example.com/launched');
}

describe('npm start', () => {
  it('runs every system in one process on embedded stand-ins when nothing is configured', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'start-embedded-'));
    const { child, banner } = await launch({ DATA_DIR: dataDir });
    expect(banner).toContain('embedded stand-ins');
    expect(banner).toContain('url-shortener    http://localhost:8081');
    await shortenAndFollow();
    expect(await stop(child)).toBe(0);
  });

  it('runs one process per service when every server address is set', async () => {
    const { child, banner } = await launch({
      KAFKA_BROKERS: serverAddress('KAFKA_BROKERS'),
      REDIS_URL: serverAddress('REDIS_URL'),
      MYSQL_URL: serverAddress('MYSQL_URL'),
      CASSANDRA_CONTACT_POINTS: serverAddress('CASSANDRA_CONTACT_POINTS'),
      CASSANDRA_KEYSPACE: 'launcher_test',
    });
    expect(banner).toContain('one process per service (4 processes)');
    for (const port of [9101, 9102, 9103]) {
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    }
    await shortenAndFollow();

    expect(await stop(child)).toBe(0);
    await expect(fetch(`${BASE}/healthz`)).rejects.toThrow();
    await expect(fetch('http://127.0.0.1:9101/healthz')).rejects.toThrow();
  });
});
