import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@platform/kit/testing';
import { readConfig } from '../src/config.ts';
import { runUrlShortener, type RunningShortener } from '../src/service.ts';

/**
 * What the redirect path records of a visit's headers, read raw off the
 * socket: the whole shortener in one process on its embedded stores, visits
 * sent as bytes so that repeated headers stay repeated.
 */
const geoDb = fileURLToPath(new URL('./fixtures/geoip-test.mmdb', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'redirect-clicks-'));
let shortener: RunningShortener;
let port: number;

beforeAll(async () => {
  port = await freePort();
  shortener = await runUrlShortener(
    readConfig({
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      CLICK_FLUSH_MS: '50',
      COUNTRY_HEADER: 'CF-IPCountry',
      GEOIP_DB: geoDb,
      // One proxy in front, as an ingress: the client is the address it forwards.
      TRUST_PROXY: '1',
    }),
    ['api', 'click-aggregator'],
  );
}, 30_000);

afterAll(async () => {
  await shortener?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Sends a request as these Latin-1 bytes; the status line of the answer. */
function send(head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('end', () => resolve(answer.split('\r\n')[0]!));
    socket.on('error', reject);
    socket.end(Buffer.from(`${head}\r\nconnection: close\r\n\r\n`, 'latin1'));
  });
}

async function create(): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/urls`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: 'https://example.com/headers' }),
  });
  return ((await response.json()) as { code: string }).code;
}

interface Stats {
  total: number;
  country: Record<string, number>;
  browser: Record<string, number>;
  referrer: Record<string, number>;
}

async function statsOnceCounted(code: string, total: number): Promise<Stats> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const response = await fetch(`http://127.0.0.1:${port}/urls/${code}/stats`);
    const stats = (await response.json()) as Stats;
    if (stats.total >= total || Date.now() > deadline) return stats;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const firefox = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';

it('counts a GET with a query string and not a HEAD, the first of repeated headers', async () => {
  const code = await create();
  expect(await send(`HEAD /${code} HTTP/1.1\r\nhost: x\r\nuser-agent: ${firefox}`)).toMatch(
    / 301 /,
  );
  const visit = [
    `GET /${code}/?utm_source=a%20b HTTP/1.1`,
    'host: x',
    `User-Agent: ${firefox}`,
    'user-agent: curl/8.5.0',
    'cf-ipCOUNTRY: fr',
    'CF-IPCountry: de',
    'Referer: https://news.example.org/caf\u00e9',
    'referer: https://other.example.org/',
  ].join('\r\n');
  expect(await send(visit)).toMatch(/ 301 /);

  await statsOnceCounted(code, 1);
  // Settled: a HEAD counted late would show as a second click.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const stats = await statsOnceCounted(code, 0);
  expect(stats).toMatchObject({
    total: 1,
    country: { FR: 1 },
    browser: { Firefox: 1 },
    referrer: { 'news.example.org': 1 },
  });
});

it('looks the country up by the forwarded client address behind a trusted proxy', async () => {
  const code = await create();
  // 198.51.100.7 is NL in the test database, 203.0.113.200 JP; the proxy (loopback) is in
  // none. One proxy is trusted, so the address the client wrote itself (JP) is not.
  const forwarded = 'x-forwarded-for: 203.0.113.200, 198.51.100.7';
  expect(await send(`GET /${code} HTTP/1.1\r\nhost: x\r\n${forwarded}`)).toMatch(/ 301 /);
  expect((await statsOnceCounted(code, 1)).country).toEqual({ NL: 1 });
});
