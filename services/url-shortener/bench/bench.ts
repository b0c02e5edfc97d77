// npm run bench:url-shortener: the redirect and create paths against the
// limits of this machine, measured in one run on 127.0.0.1, written to
// docs/benchmarks.md. Uses the real servers when their addresses are set
// (eval "$(npm run -s infra -- env)"), the embedded stand-ins otherwise.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon, { type Result } from 'autocannon';
import { connectInfra, createLogger, infraSchema, loadConfig } from '@platform/kit';
import { ChildProcesses, machine, median, waitFor, writeSection } from '@platform/kit/testing';
import { mappingCacheKey } from '../src/store/mapping.store.ts';

const ROUNDS = 3;
const DURATION_S = 8;
const CONNECTIONS = 32;
const HOT_CODES = 1000;
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const benchmarksFile = here('../../../docs/benchmarks.md');
const servers = loadConfig(infraSchema);
const realServers = Boolean(servers.KAFKA_BROKERS && servers.CASSANDRA_CONTACT_POINTS);
const dataDir = mkdtempSync(join(tmpdir(), 'url-shortener-bench-'));
const children = new ChildProcesses({ LOG_LEVEL: 'warn', DATA_DIR: dataDir });

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  non3xx: number;
}

interface Scenario {
  name: string;
  rounds: Figures[];
}

const start = (args: string[], env?: Record<string, string>) => children.start(args, env);
const stop = (child: ChildProcess) => children.stop(child);

function api(port: number, env: Record<string, string> = {}): ChildProcess {
  return start([here('../src/main.ts'), 'api'], {
    PORT: String(port),
    CREATE_RATE_LIMIT: '100000000',
    CODE_SECRET: 'benchmark-secret',
    // A keyspace of its own: the default one holds the codes of `npm start`.
    CASSANDRA_KEYSPACE: 'url_shortener_bench',
    ...env,
  });
}

function figures(result: Result): Figures {
  const redirects = result['3xx'];
  return {
    rps: (redirects + result['2xx']) / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non3xx: result.non2xx - redirects + result.errors + result.timeouts,
  };
}

/**
 * Redirect load over a list of paths, round robin, from wrk: a C load
 * generator, so on two cores the generator is not what sets the ceiling.
 */
function redirects(port: number, paths: string[], seconds = DURATION_S): Figures {
  const pathsFile = join(dataDir, `paths-${port}.txt`);
  writeFileSync(pathsFile, paths.join('\n'));
  const output = execFileSync(
    'wrk',
    [
      '-t1',
      `-c${CONNECTIONS}`,
      `-d${seconds}s`,
      '--latency',
      '-s',
      here('rotate-paths.lua'),
      `http://127.0.0.1:${port}`,
    ],
    { env: { ...process.env, WRK_PATHS: pathsFile }, encoding: 'utf8' },
  );
  const latency = (percent: string) => {
    const match = new RegExp(`^\\s+${percent}%\\s+([\\d.]+)(us|ms|s)$`, 'm').exec(output);
    if (!match) throw new Error(`no ${percent}% latency in wrk output:\n${output}`);
    const ms = Number(match[1]) * { us: 0.001, ms: 1, s: 1000 }[match[2] as 'us' | 'ms' | 's'];
    return Math.round(ms * 1000) / 1000;
  };
  const rps = Number(/^Requests\/sec:\s+([\d.]+)/m.exec(output)?.[1]);
  const failed = Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(
    output,
  );
  const socketErrors = errors ? errors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  return { rps, p50: latency('50'), p99: latency('99'), non3xx: failed + socketErrors };
}

/** Each code read once, so every read misses the caches; autocannon stops after `amount`. */
async function coldRedirects(port: number, paths: string[]): Promise<Figures> {
  let next = 0;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: CONNECTIONS,
    amount: paths.length,
    requests: [
      {
        method: 'GET',
        setupRequest: (request) => ({ ...request, path: paths[next++ % paths.length]! }),
      },
    ],
  });
  return figures(result);
}

/** Create load with distinct targets; the codes it gets back feed the cold scenario. */
async function creates(port: number, codes: string[]): Promise<Figures> {
  let n = 0;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: CONNECTIONS,
    duration: DURATION_S,
    requests: [
      {
        method: 'POST',
        path: '/urls',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request) => ({
          ...request,
          body: JSON.stringify({ url: `https://example.com/bench/${Date.now()}/${n++}` }),
        }),
        onResponse: (status, body) => {
          if (status === 201) codes.push((JSON.parse(body) as { code: string }).code);
        },
      },
    ],
  });
  return figures(result);
}

async function createSome(port: number, count: number): Promise<string[]> {
  const codes: string[] = [];
  for (let i = 0; i < count; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, count - i) }, async (_, j) => {
        const response = await fetch(`http://127.0.0.1:${port}/urls`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ url: `https://example.com/hot/${i + j}` }),
        });
        return ((await response.json()) as { code: string }).code;
      }),
    );
    codes.push(...batch);
  }
  return codes;
}

/**
 * Drops the cached copies of codes from the cache the API uses (Redis or Redis
 * Cluster), so the next read of each goes to the store. The embedded cache
 * lives in the API process and is gone with it.
 */
async function evictFromCache(codes: string[]): Promise<void> {
  if (!realServers) return;
  const infra = connectInfra(servers, createLogger('bench', 'warn'), 'bench');
  for (let i = 0; i < codes.length; i += 500) {
    await Promise.all(
      codes.slice(i, i + 500).map((code) => infra.cache.delete(mappingCacheKey(code))),
    );
  }
  await infra.close();
}

async function main(): Promise<void> {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
  } catch (error) {
    // wrk prints its version and exits 1; only a missing binary is a problem.
    if ((error as { code?: string }).code === 'ENOENT') {
      throw new Error('wrk is needed for the redirect load: apt-get install wrk', { cause: error });
    }
  }
  const scenarios = new Map<string, Scenario>();
  const record = (name: string, result: Figures) => {
    const scenario = scenarios.get(name) ?? { name, rounds: [] };
    scenario.rounds.push(result);
    scenarios.set(name, scenario);
    console.log(
      `  ${name.padEnd(40)} ${result.rps.toFixed(0).padStart(7)} req/s  ` +
        `p50 ${result.p50} ms  p99 ${result.p99} ms  failed ${result.non3xx}`,
    );
  };
  console.log(`url-shortener benchmark on ${realServers ? 'real servers' : 'embedded stand-ins'}`);

  for (let round = 1; round <= ROUNDS; round += 1) {
    console.log(`round ${round} of ${ROUNDS}`);

    const bare = start([here('baseline-servers.ts'), 'bare', '18180']);
    await waitFor('http://127.0.0.1:18180/x');
    redirects(18180, ['/abc1234'], 2);
    record('bare node:http, fixed 301', redirects(18180, ['/abc1234']));
    await stop(bare);

    const plain = start([here('baseline-servers.ts'), 'express', '18181']);
    await waitFor('http://127.0.0.1:18181/x');
    redirects(18181, ['/abc1234'], 2);
    record('express 5, fixed 301', redirects(18181, ['/abc1234']));
    await stop(plain);

    const hot = api(18182);
    await waitFor('http://127.0.0.1:18182/healthz');
    const hotPaths = (await createSome(18182, HOT_CODES)).map((code) => `/${code}`);
    redirects(18182, hotPaths, 2);
    record('redirect, near-cache hit', redirects(18182, hotPaths));
    const created: string[] = [];
    record('create', await creates(18182, created));
    await stop(hot);

    const viaRedis = api(18183, { NEAR_CACHE_SIZE: '1' });
    await waitFor('http://127.0.0.1:18183/healthz');
    redirects(18183, hotPaths, 2);
    record(`redirect, ${realServers ? 'redis' : 'cache-port'} hit`, redirects(18183, hotPaths));
    await stop(viaRedis);

    await evictFromCache(created);
    const cold = api(18184, { NEAR_CACHE_SIZE: '1' });
    await waitFor('http://127.0.0.1:18184/healthz');
    const coldPaths = created.map((code) => `/${code}`);
    record(
      `redirect, cold (${realServers ? 'cassandra' : 'sqlite'} read)`,
      await coldRedirects(18184, coldPaths.slice(0, 20_000)),
    );
    await stop(cold);
  }

  await writeResults([...scenarios.values()]);
}

async function writeResults(scenarios: Scenario[]): Promise<void> {
  // Each round's figure against the bare server of the same round, a minute
  // apart at most: drift in the machine's speed between rounds cancels out.
  const bare = scenarios[0]!.rounds;
  const summary = scenarios.map((s) => ({
    name: s.name,
    rps: median(s.rounds.map((r) => r.rps)),
    ratio: median(s.rounds.map((r, round) => r.rps / bare[round]!.rps)),
    p50: median(s.rounds.map((r) => r.p50)),
    p99: median(s.rounds.map((r) => r.p99)),
    failed: s.rounds.reduce((sum, r) => sum + r.non3xx, 0),
  }));
  const rows = summary.map((s) => {
    const cells = [s.name, s.rps.toFixed(0), s.ratio.toFixed(2), s.p50, s.p99, s.failed];
    return `| ${cells.join(' | ')} |`;
  });
  const where = realServers
    ? 'real servers (Redis, Cassandra, MariaDB, Kafka on this machine)'
    : 'embedded stand-ins';
  const mode = realServers ? 'real-servers' : 'embedded';
  const section = [
    `## URL shortener, ${realServers ? 'on real servers' : 'on embedded stand-ins'}`,
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} by \`npm run bench:url-shortener\` on ` +
      `${machine()}, ${where}. ` +
      `Load from wrk (1 thread, ${CONNECTIONS} connections, ${DURATION_S} s after a 2 s ` +
      'warm-up) on the same machine; creates and cold reads (each code once) from autocannon. ' +
      `Median of ${ROUNDS} rounds. ` +
      "The ratio is the median over the rounds of each round's figure against the bare " +
      '`node:http` server of the same round.',
    '',
    '| scenario | req/s | ratio to bare | p50 ms | p99 ms | failed |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
  await writeSection(benchmarksFile, `url-shortener:${mode}`, section);
  console.log(`\nwrote ${benchmarksFile}`);
}

try {
  await main();
} finally {
  await children.stopAll();
}
