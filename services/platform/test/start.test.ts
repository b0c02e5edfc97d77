import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  freePort,
  scratchDatabase,
  serverAddress,
  type ScratchDatabase,
} from '@platform/kit/testing';
import { DEFAULT_PAYMENT_SECRET, paymentSignature } from '@platform/hotel-booking';

const START = fileURLToPath(new URL('../src/start.ts', import.meta.url));
const BASE = 'http://127.0.0.1:8081';
const HOTELS = 'http://127.0.0.1:8082';
const NAVIGATION = 'http://127.0.0.1:8084';

let database: ScratchDatabase | undefined;
afterAll(async () => {
  await database?.drop();
});

/** Every server address, with a MySQL database of this suite's own. */
async function realServers(): Promise<Record<string, string>> {
  database ??= await scratchDatabase('launcher_test');
  return {
    KAFKA_BROKERS: serverAddress('KAFKA_BROKERS'),
    REDIS_URL: serverAddress('REDIS_URL'),
    MYSQL_URL: database.url,
    CASSANDRA_CONTACT_POINTS: serverAddress('CASSANDRA_CONTACT_POINTS'),
    CASSANDRA_KEYSPACE: 'launcher_test',
    OPENSEARCH_URL: serverAddress('OPENSEARCH_URL'),
    NAME_PREFIX: 'launcher-test.',
  };
}

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

/**
 * A Ctrl-C: SIGINT to the launcher. A terminal sends it to the whole foreground
 * process group, which is why the launcher puts each child in a group of its
 * own (checked below); here the launcher alone gets it.
 */
async function interrupt(child: ChildProcess): Promise<number | null> {
  launched.delete(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  return exited;
}

/** The process group of each child process of a pid. */
function childGroups(pid: number): { pid: number; pgid: number }[] {
  const out = execFileSync('ps', ['-o', 'pid=,pgid=', '--ppid', String(pid)], { encoding: 'utf8' });
  return out
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number))
    .map(([child, pgid]) => ({ pid: child!, pgid: pgid! }));
}

/**
 * The IPv4 addresses that listen on a port, as the kernel lists them
 * (/proc/net/tcp: little-endian hex address, hex port, state 0A for LISTEN).
 */
function listeningAddresses(port: number): string[] {
  return readFileSync('/proc/net/tcp', 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter(([, local, , state]) => state === '0A' && parseInt(local!.split(':')[1]!, 16) === port)
    .map(([, local]) => {
      const hex = local!.split(':')[0]!;
      return [6, 4, 2, 0].map((i) => parseInt(hex.slice(i, i + 2), 16)).join('.');
    });
}

async function create(url: string): Promise<string> {
  const response = await fetch(`${BASE}/urls`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { code: string }).code;
}

async function visit(code: string, times: number): Promise<void> {
  for (let i = 0; i < times; i += 1) {
    const response = await fetch(`${BASE}/${code}`, { redirect: 'manual' });
    expect(response.status).toBe(301);
  }
}

async function clicksOf(code: string, expected: number): Promise<number> {
  let total = -1;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const stats = (await (await fetch(`${BASE}/urls/${code}/stats`)).json()) as { total: number };
    total = stats.total;
    if (total >= expected) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return total;
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

/** A hotel with one room, booked and paid for tomorrow night. */
async function bookAndPay(): Promise<void> {
  const send = async (
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string> = {},
  ) => {
    const response = await fetch(HOTELS + path, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const hotel = await send('POST', '/hotels', { name: 'Launcher Inn', locality: 'Braga' });
  expect(hotel.status).toBe(201);
  const roomId = `launcher-${randomUUID().slice(0, 8)}`;
  const room = { quantity: 1, minPrice: 8_000, maxPrice: 12_000 };
  expect((await send('PUT', `/hotels/${hotel.body.id}/rooms/${roomId}`, room)).status).toBe(201);
  const night = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  const departure = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
  const stay = { userId: 'launcher', roomId, quantity: 1, startDate: night, endDate: departure };
  const booked = await send('POST', '/bookings', stay, { 'idempotency-key': randomUUID() });
  expect(booked.body).toMatchObject({ status: 'RESERVED', amount: 8_000 });
  const id = String(booked.body.id);
  const payment = { status: 'succeeded', reference: 'launcher-payment' };
  const paid = await send('POST', `/bookings/${id}/payment`, payment, {
    'x-payment-signature': paymentSignature(DEFAULT_PAYMENT_SECRET, id, payment),
  });
  expect(paid.body.outcome).toBe('booked');
}

/** A route across Andorra la Vella on the default extract. */
async function route(): Promise<void> {
  const response = await fetch(`${NAVIGATION}/route?from=42.5078,1.5211&to=42.5063,1.5302`);
  expect(response.status).toBe(200);
  const body = (await response.json()) as { properties: { distanceM: number } };
  expect(body.properties.distanceM).toBeGreaterThan(500);
}

describe('npm start', () => {
  it('runs every system in one process on embedded stand-ins by default', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'start-embedded-'));
    const { child, banner } = await launch({ DATA_DIR: dataDir });
    expect(banner).toContain('embedded stand-ins');
    expect(banner).toContain('url-shortener    http://localhost:8081');
    expect(banner).toContain('hotel-booking    http://localhost:8082');
    expect(banner).toContain('navigation       http://localhost:8084');
    expect(banner).toContain('listening on 127.0.0.1 only');
    // Unauthenticated write APIs stay off the network unless HOST says otherwise.
    for (const port of [8081, 8082, 8084, 8085, 9121]) {
      expect([port, listeningAddresses(port)]).toEqual([port, ['127.0.0.1']]);
    }
    await shortenAndFollow();
    await bookAndPay();
    await route();
    expect(await stop(child)).toBe(0);
  });

  it('runs only the systems SYSTEMS names; refuses a PORT several would read', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'start-some-'));
    const { child, banner } = await launch({ DATA_DIR: dataDir, SYSTEMS: 'url-shortener' });
    expect(banner).toContain('url-shortener    http://localhost:8081');
    expect(banner).not.toContain('hotel-booking');
    await expect(fetch('http://127.0.0.1:8082/healthz')).rejects.toThrow();
    await expect(fetch(`${NAVIGATION}/healthz`)).rejects.toThrow();
    // In one process the shortener's API answers for it: no token service or aggregator port.
    for (const port of [9101, 9102, 9103]) {
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    }
    expect(await stop(child)).toBe(0);

    const port = await freePort();
    const moved = await launch({
      DATA_DIR: dataDir,
      SYSTEMS: 'hotel-booking',
      PORT: String(port),
      HOST: '0.0.0.0',
    });
    expect(moved.banner).toContain(`hotel-booking    http://localhost:${port}`);
    expect(moved.banner).toContain('listening on 0.0.0.0: the write APIs take no credentials');
    expect(listeningAddresses(port)).toEqual(['0.0.0.0']);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect(await stop(moved.child)).toBe(0);

    const refused = await launch({ DATA_DIR: dataDir, PORT: '8091' }).catch((e: Error) => e);
    expect(String(refused)).toMatch(
      /cannot start: invalid configuration: PORT: applies to one system in one process/,
    );
    const unknown = await launch({ DATA_DIR: dataDir, SYSTEMS: 'url-shortner' }).catch(
      (e: Error) => e,
    );
    expect(String(unknown)).toMatch(/SYSTEMS: unknown url-shortner; known: url-shortener/);
    const badHost = await launch({ DATA_DIR: dataDir, HOST: 'everywhere' }).catch((e: Error) => e);
    expect(String(badHost)).toMatch(/^invalid configuration: HOST: expected an IP address/m);
  });

  it('keeps counting clicks after an embedded restart on the same data', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'start-restart-'));
    const first = await launch({ DATA_DIR: dataDir, CLICK_FLUSH_MS: '200' });
    const code = await create('https://example.com/restarted');
    await visit(code, 2);
    expect(await clicksOf(code, 2)).toBe(2);
    expect(await interrupt(first.child)).not.toBeNull();

    await launch({ DATA_DIR: dataDir, CLICK_FLUSH_MS: '200' });
    await visit(code, 3);
    expect(await clicksOf(code, 5)).toBe(5);
  });

  it('counts the clicks still buffered when one process per service gets a Ctrl-C', async () => {
    const servers = { ...(await realServers()), CLICK_FLUSH_MS: '60000' };
    const first = await launch(servers);
    const code = await create('https://example.com/interrupted');
    await visit(code, 4);
    expect(await interrupt(first.child)).toBe(0);

    await launch(servers);
    expect(await clicksOf(code, 4)).toBe(4);
  });

  it('runs one process per service when every server address is set', async () => {
    const { child, banner } = await launch(await realServers());
    expect(banner).toContain('one process per service (14 processes)');
    const groups = childGroups(child.pid!);
    expect(groups).toHaveLength(14);
    for (const group of groups) expect(group.pgid).toBe(group.pid);
    // Internal ports: the URL shortener's and hotel booking's workers, chat's two handlers and
    // its fan-out worker.
    const internal = [9101, 9102, 9103, 9111, 9112, 9113, 9114, 9115, 8085, 9121, 9122, 9123, 9124];
    for (const port of internal) {
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      expect([port, listeningAddresses(port)]).toEqual([port, ['127.0.0.1']]);
    }
    await shortenAndFollow();
    await bookAndPay();
    await route();

    expect(await stop(child)).toBe(0);
    await expect(fetch(`${BASE}/healthz`)).rejects.toThrow();
    await expect(fetch(`${NAVIGATION}/healthz`)).rejects.toThrow();
    await expect(fetch('http://127.0.0.1:9101/healthz')).rejects.toThrow();
    await expect(fetch(`${HOTELS}/healthz`)).rejects.toThrow();
    for (const port of [9111, 9112, 9113, 9114, 9115, 8085, 9121, 9122, 9123, 9124]) {
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    }
  });
});
