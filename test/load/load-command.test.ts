import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../services/url-shortener/test/processes.ts';
import { ROOT, toolPath } from '../observability/tools.ts';

/**
 * `npm run load -- <system>`: starts the platform (embedded here, on free
 * ports, since other suites may hold the default ones), runs k6 against it,
 * prints k6's summary, stops the platform and exits with k6's code.
 */
const SERVER_ADDRESSES = [
  'KAFKA_BROKERS',
  'REDIS_URL',
  'REDIS_CLUSTER_NODES',
  'MYSQL_URL',
  'CASSANDRA_CONTACT_POINTS',
  'OPENSEARCH_URL',
];

const dataDir = mkdtempSync(join(tmpdir(), 'load-command-'));

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function load(args: string[], env: Record<string, string>) {
  const environment: NodeJS.ProcessEnv = { ...process.env, K6_BIN: toolPath('K6_BIN'), ...env };
  for (const variable of SERVER_ADDRESSES) delete environment[variable];
  const child = spawn(process.execPath, [join(ROOT, 'scripts/load.ts'), ...args], {
    env: environment,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise<{ code: number | null; output: string }>((resolve) => {
    child.once('close', (code) => resolve({ code, output }));
  });
}

it('runs the load test against the platform it starts, and stops it', async () => {
  const [port, tokenPort, aggregatorPort] = [await freePort(), await freePort(), await freePort()];
  const { code, output } = await load(['url-shortener', '--rate', '20', '--duration', '5s'], {
    PORT: String(port),
    TOKEN_SERVICE_PORT: String(tokenPort),
    AGGREGATOR_PORT: String(aggregatorPort),
    DATA_DIR: dataDir,
  });

  if (code !== 0) throw new Error(`npm run load exited with ${code}:\n${output}`);
  expect(output).toContain(`against http://127.0.0.1:${port} `);
  expect(output).toContain("✓ 'p(99)<100'");
  expect(output).toMatch(/http_reqs\.+: \d+/);
  // Stopped: the port is free again.
  await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
}, 60_000);

it('runs the hotel booking load test, its hot room refused as expected, not as errors', async () => {
  const port = await freePort();
  const { code, output } = await load(['hotel-booking', '--rate', '10', '--duration', '8s'], {
    PORT: String(port),
    DATA_DIR: dataDir,
  });

  if (code !== 0) throw new Error(`npm run load exited with ${code}:\n${output}`);
  expect(output).toContain(`k6 run hotel-booking against http://127.0.0.1:${port} `);
  expect(output).toContain("http_req_duration{op:book}\n    ✓ 'p(95)<300'");
  expect(output).toContain("http_req_failed\n    ✓ 'rate<0.001'");
  // The crowd on the hot room was refused far more often than it won, and every refusal was
  // a 409 rooms_unavailable the checks accepted.
  const refusals = Number(/hot_room_refusals\.+: (\d+)/.exec(output)?.[1]);
  const wins = Number(/hot_room_wins\.+: (\d+)/.exec(output)?.[1]);
  expect(wins).toBeGreaterThan(0);
  expect(refusals).toBeGreaterThan(5 * wins);
  expect(output).toMatch(/checks_failed\.+: 0\.00%/);
  // Searches ran, so their threshold held on real samples.
  expect(output).toContain("http_req_duration{op:search}\n    ✓ 'p(95)<200'");
  expect(output).toMatch(/searches\.+: [1-9]/);
  await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
}, 90_000);

it('runs the navigation load test on the Andorra extract: routes, ETAs, places, traffic, sessions', async () => {
  const port = await freePort();
  const { code, output } = await load(['navigation', '--rate', '10', '--duration', '8s'], {
    PORT: String(port),
    DATA_DIR: dataDir,
  });

  if (code !== 0) throw new Error(`npm run load exited with ${code}:\n${output}`);
  expect(output).toContain(`k6 run navigation against http://127.0.0.1:${port} `);
  expect(output).toContain("http_req_duration{op:route}\n    ✓ 'p(95)<200'");
  expect(output).toContain("http_req_failed\n    ✓ 'rate<0.001'");
  expect(output).toMatch(/checks_failed\.+: 0\.00%/);
  // The WebSocket sessions ran, and each strayed and was rerouted.
  expect(output).toMatch(/ws_sessions\.+: [1-9]/);
  expect(output).toContain('✓ a session off its route reroutes');
  await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
}, 90_000);

it("exits with k6's code when the run fails", async () => {
  // Ready, but every create fails: k6's setup cannot build its pool of links and throws.
  const broken = createServer((req, res) => {
    res.writeHead(req.url === '/readyz' ? 200 : 503).end();
  });
  await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
  const { port } = broken.address() as AddressInfo;
  try {
    const { code, output } = await load(
      ['url-shortener', '--base-url', `http://127.0.0.1:${port}`, '--duration', '2s'],
      {},
    );
    // 107: the script threw.
    expect({ code, output }).toEqual({ code: 107, output: expect.stringContaining('503') });
  } finally {
    broken.close();
  }
});

it('refuses a base URL where nothing is ready, before running k6', async () => {
  const closed = await freePort();
  const { code, output } = await load(
    ['url-shortener', '--base-url', `http://127.0.0.1:${closed}`, '--duration', '2s'],
    {},
  );
  expect({ code, output }).toEqual({
    code: 2,
    output: expect.stringContaining(`nothing ready at http://127.0.0.1:${closed}/readyz`),
  });
});

it('rejects a bad rate before starting anything', async () => {
  const { code, output } = await load(['url-shortener', '--rate', 'fast'], {});

  expect({ code, output }).toEqual({ code: 2, output: expect.stringContaining('--rate') });
});
