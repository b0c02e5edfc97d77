// npm run bench:hotel-booking [-- --quick] [--out FILE] [--database NAME]:
// bookings per second through the booking transaction on the real MariaDB
// (with Redis for the holds and Idempotency-Key answers), on distinct rooms
// and on one hot room, each against raw single-row transactions measured with
// mysql2 on the same server just before it, in the same round. Writes its
// section of docs/benchmarks.md (or FILE). Needs MYSQL_URL (a user that may
// create databases) and REDIS_URL: eval "$(npm run -s infra -- env)".
// --quick (1 round of 1 s) is the smoke test the integration tests run.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { createPool, type PoolConnection } from 'mysql2/promise';
import { MysqlRelational } from '@platform/kit';
import {
  ChildProcesses,
  cpuMeter,
  freePort,
  loadAverage,
  machine,
  median,
  scratchDatabase,
  serverAddress,
  waitFor,
  writeSection,
  type ScratchDatabase,
} from '@platform/kit/testing';
import type { CalendarDate } from '../src/domain/dates.ts';
import { MAX_ROOM_QUANTITY } from '../src/domain/validation.ts';
import { BookingStore } from '../src/store/booking.store.ts';
import { SCENARIOS } from './scenarios.ts';
import { forgetKeys, hotelWithRooms, inDays } from '../test/system.ts';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const { values: options } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: here('../../../docs/benchmarks.md') },
    database: { type: 'string', default: 'hotel_bench' },
  },
});

const ROUNDS = options.quick ? 1 : 3;
const SECONDS = options.quick ? 1 : 4;
const WARM_UP_SECONDS = options.quick ? 0.3 : 1;
/** Concurrent clients; also the pool size of the store and raw figures, and the API's own pool. */
const CLIENTS = 10;
const ROOM_TYPES = 100;
/** Nights on sale ahead: enough for a fresh hot night per run of every round. */
const INVENTORY_DAYS = 30;
const HOLD_TTL_MS = 300_000;
/** The night the distinct-room and sold-out bookings take: after today in every time zone. */
const NIGHT = 2;

const mysqlUrl = serverAddress('MYSQL_URL');
const redisUrl = serverAddress('REDIS_URL');
const keyPrefix = `${options.database.replaceAll('_', '-')}.`;
const children = new ChildProcesses({ LOG_LEVEL: 'warn' });
const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });

type Outcome = 'success' | 'refused';

/** One timed run: a closed loop of CLIENTS clients, each sending again when answered. */
interface Figures {
  /** Per second. */
  successes: number;
  /** Per second: successes and refusals. */
  answers: number;
  /** How many answers in all. */
  answered: number;
  p50: number;
  p99: number;
  failed: number;
}

interface Run {
  figures: Figures;
  /** To the raw transactions measured just before; 1 for those themselves. */
  ratio: number;
  /** Milliseconds of CPU time per answer, where it could be read. */
  cpu: { bench?: number | undefined; api?: number | undefined; mariadb?: number | undefined };
  /** The share of the machine's CPU used by every other process. */
  others: number | undefined;
}

interface Scenario {
  name: string;
  /** What the ratio divides: bookings made, or every answer (for the sold-out rows). */
  ratioOf: 'successes' | 'answers';
  runs: Run[];
}

/**
 * Runs op from CLIENTS clients for `seconds`; op answers 'success' or
 * 'refused', and a throw counts as failed (the first one is printed).
 */
async function closedLoop(
  seconds: number,
  op: (client: number) => Promise<Outcome>,
): Promise<Figures> {
  const latencies: number[] = [];
  let successes = 0;
  let refused = 0;
  let failed = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      while (performance.now() < until) {
        const sent = performance.now();
        try {
          if ((await op(client)) === 'success') successes += 1;
          else refused += 1;
        } catch (error) {
          if (failed === 0) console.error(`    first failure: ${String(error)}`);
          failed += 1;
        }
        latencies.push(performance.now() - sent);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.max(0, Math.ceil(q * latencies.length) - 1)] ?? 0;
  return {
    successes: successes / elapsed,
    answers: (successes + refused) / elapsed,
    answered: successes + refused,
    p50: at(0.5),
    p99: at(0.99),
    failed,
  };
}

/** BEGIN; SELECT ... FOR UPDATE of one row; UPDATE it; COMMIT: mysql2 on a connection a client. */
function rawTransactions(connections: PoolConnection[], row: (client: number) => number) {
  return async (client: number): Promise<Outcome> => {
    const connection = connections[client]!;
    const id = row(client);
    try {
      await connection.query('START TRANSACTION');
      await connection.query('SELECT n FROM bench_rows WHERE id = ? FOR UPDATE', [id]);
      await connection.query('UPDATE bench_rows SET n = n + 1 WHERE id = ?', [id]);
      await connection.query('COMMIT');
      return 'success';
    } catch (error) {
      await connection.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  };
}

interface Stay {
  roomId: string;
  startDate: CalendarDate;
  endDate: CalendarDate;
}

/** The booking transaction without HTTP: BookingStore.reserve in this process. */
function storeBookings(store: BookingStore, stay: (client: number, n: number) => Stay) {
  const sent = new Array<number>(CLIENTS).fill(0);
  return async (client: number): Promise<Outcome> => {
    const n = sent[client]!;
    sent[client] = n + 1;
    const now = Date.now();
    const result = await store.reserve({
      ...stay(client, n),
      id: randomUUID(),
      userId: `guest-${client}`,
      quantity: 1,
      currency: 'EUR',
      requestKey: randomUUID(),
      expiresAt: now + HOLD_TTL_MS,
      now,
    });
    if (result.ok) return 'success';
    if (result.reason === 'rooms_unavailable') return 'refused';
    throw new Error(`refused: ${result.reason}`);
  };
}

/** The booking path as a guest takes it: POST /bookings to the API process. */
function apiBookings(port: number, stay: (client: number, n: number) => Stay) {
  const sent = new Array<number>(CLIENTS).fill(0);
  return async (client: number): Promise<Outcome> => {
    const n = sent[client]!;
    sent[client] = n + 1;
    const body = JSON.stringify({
      ...stay(client, n),
      userId: `guest-${client}`,
      quantity: 1,
    });
    const answer = await post(port, '/bookings', body, randomUUID());
    if (answer.status === 201) return 'success';
    if (answer.status === 409 && answer.body.includes('"rooms_unavailable"')) return 'refused';
    throw new Error(`${answer.status} ${answer.body}`);
  };
}

function post(
  port: number,
  path: string,
  body: string,
  idempotencyKey: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'idempotency-key': idempotencyKey,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const oneNight = (roomId: string, night: number): Stay => ({
  roomId,
  startDate: inDays(night),
  endDate: inDays(night + 1),
});

const distinctRoom = (index: number) => `bench-room-${String(index).padStart(3, '0')}`;

/** Client c books room types c, c + CLIENTS, c + 2 CLIENTS, ...: none another client books. */
const distinctRooms = (client: number, n: number) =>
  oneNight(distinctRoom(client + CLIENTS * (n % (ROOM_TYPES / CLIENTS))), NIGHT);

const ms = (value: number) => (value < 10 ? value.toFixed(2) : value.toFixed(1));

/** Everything the run created, taken down once, also on Ctrl-C. */
class Resources {
  database: ScratchDatabase | undefined;
  readonly closers: (() => Promise<unknown>)[] = [];
  #done: Promise<void> | undefined;

  release(): Promise<void> {
    this.#done ??= (async () => {
      await children.stopAll();
      agent.destroy();
      for (const close of this.closers.reverse()) await close().catch(() => undefined);
      await forgetKeys({ REDIS_URL: redisUrl, NAME_PREFIX: keyPrefix });
      await this.database?.drop();
      console.log(`dropped database ${options.database} and the Redis keys under ${keyPrefix}`);
    })();
    return this.#done;
  }
}

/** The servers' versions and settings, and the MariaDB process (to count its CPU time). */
async function servers(): Promise<{ description: string; mariadbPid: number | undefined }> {
  const redis = new Redis(redisUrl);
  const info = await redis.info('server');
  await redis.quit();
  const redisVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  const probe = createPool({ uri: mysqlUrl, connectionLimit: 1 });
  const [[row]] = (await probe.query(
    'SELECT VERSION() AS version, @@innodb_flush_log_at_trx_commit AS flush, ' +
      '@@log_bin AS bin, @@pid_file AS pidFile',
  )) as unknown as [{ version: string; flush: number; bin: number; pidFile: string }[]];
  await probe.end();
  // A server elsewhere, or its pid file out of reach: its CPU time goes uncounted.
  let mariadbPid: number | undefined;
  if (['127.0.0.1', 'localhost', '[::1]'].includes(new URL(mysqlUrl).hostname)) {
    try {
      mariadbPid = Number(readFileSync(row!.pidFile, 'utf8').trim()) || undefined;
    } catch {
      mariadbPid = undefined;
    }
  }
  const description =
    `MariaDB ${row!.version.replace(/-.*/, '')} (InnoDB, innodb_flush_log_at_trx_commit=` +
    `${row!.flush}, binary log ${row!.bin ? 'on' : 'off'}) and Redis ${redisVersion}`;
  return { description, mariadbPid };
}

async function main(resources: Resources): Promise<void> {
  const load = loadAverage();
  const { description, mariadbPid } = await servers();
  console.log(
    `hotel-booking benchmark: ${ROUNDS} round${ROUNDS === 1 ? '' : 's'} of ${SECONDS} s per ` +
      `run, ${CLIENTS} clients, on ${description}; load average ${load}`,
  );
  await forgetKeys({ REDIS_URL: redisUrl, NAME_PREFIX: keyPrefix });
  resources.database = await scratchDatabase(options.database, { exact: true });
  const databaseUrl = resources.database.url;
  console.log(`created database ${options.database}`);

  const port = await freePort();
  const api = children.start([here('../src/main.ts'), 'api'], {
    PORT: String(port),
    MYSQL_URL: databaseUrl,
    REDIS_URL: redisUrl,
    NAME_PREFIX: keyPrefix,
    INVENTORY_DAYS: String(INVENTORY_DAYS),
    HOLD_TTL_MS: String(HOLD_TTL_MS),
    DATA_DIR: mkdtempSync(join(tmpdir(), 'hotel-booking-bench-')),
    // Empty counts as unset: the event log and the archive stay embedded (the
    // booking path uses neither) and holds go to REDIS_URL, not a cluster.
    KAFKA_BROKERS: '',
    CASSANDRA_CONTACT_POINTS: '',
    REDIS_CLUSTER_NODES: '',
    HOLD_REDIS_URL: '',
    OTEL_EXPORTER_OTLP_ENDPOINT: '',
  });
  await waitFor(`http://127.0.0.1:${port}/healthz`);
  console.log(`API started on 127.0.0.1:${port}; creating ${ROOM_TYPES + 2} room types`);
  await hotelWithRooms(`http://127.0.0.1:${port}`, [
    ...Array.from({ length: ROOM_TYPES }, (_, i) => ({
      id: distinctRoom(i),
      quantity: MAX_ROOM_QUANTITY,
    })),
    { id: 'bench-hot', quantity: MAX_ROOM_QUANTITY },
    { id: 'bench-sold-out', quantity: 0 },
  ]);

  const relational = new MysqlRelational(databaseUrl, { connectionLimit: CLIENTS });
  resources.closers.push(() => relational.close());
  const store = new BookingStore(relational);
  const raw = createPool({ uri: databaseUrl, connectionLimit: CLIENTS });
  resources.closers.push(() => raw.end());
  await raw.query(
    'CREATE TABLE bench_rows (id INT NOT NULL PRIMARY KEY, n BIGINT NOT NULL) ENGINE=InnoDB',
  );
  await raw.query('INSERT INTO bench_rows (id, n) VALUES ?', [
    Array.from({ length: CLIENTS }, (_, id) => [id, 0]),
  ]);
  const connections = await Promise.all(Array.from({ length: CLIENTS }, () => raw.getConnection()));
  resources.closers.push(async () => connections.forEach((connection) => connection.release()));

  const processes = { bench: process.pid, api: api.pid, mariadb: mariadbPid };
  const scenarios = new Map<string, Scenario>();
  /** A warm-up, then the timed run; each calls makeOp afresh (a hot room gets a new night). */
  const measure = async (
    name: string,
    makeOp: () => (client: number) => Promise<Outcome>,
    against?: { baseline: Figures; ratioOf: Scenario['ratioOf'] },
  ): Promise<Figures> => {
    await closedLoop(WARM_UP_SECONDS, makeOp());
    const stopMeter = cpuMeter(processes);
    const figures = await closedLoop(SECONDS, makeOp());
    const cpu = stopMeter();
    const perAnswer = (ms: number | undefined) =>
      ms === undefined || figures.answered === 0 ? undefined : ms / figures.answered;
    const run: Run = {
      figures,
      ratio: against ? figures[against.ratioOf] / against.baseline.answers : 1,
      cpu: {
        bench: perAnswer(cpu.used.bench),
        api: name.startsWith('POST ') ? perAnswer(cpu.used.api) : undefined,
        mariadb: perAnswer(cpu.used.mariadb),
      },
      others: cpu.others,
    };
    const scenario = scenarios.get(name) ?? {
      name,
      ratioOf: against?.ratioOf ?? 'answers',
      runs: [],
    };
    scenario.runs.push(run);
    scenarios.set(name, scenario);
    console.log(
      `  ${name.padEnd(40)} ${figures.successes.toFixed(0).padStart(5)} ok/s ` +
        `${figures.answers.toFixed(0).padStart(5)} answers/s  ratio ${run.ratio.toFixed(2)}  ` +
        `p50 ${ms(figures.p50)} ms  p99 ${ms(figures.p99)} ms  failed ${figures.failed}  ` +
        `others' CPU ${percent(run.others)}`,
    );
    return figures;
  };
  /** The raw transactions, then the booking figure measured against them straight after. */
  const paired = async (
    name: string,
    makeOp: () => (client: number) => Promise<Outcome>,
    on: 'distinct' | 'hot',
    ratioOf: Scenario['ratioOf'] = 'successes',
  ) => {
    const baseline =
      on === 'distinct'
        ? await measure(SCENARIOS.rawDistinct, () =>
            rawTransactions(connections, (client) => client),
          )
        : await measure(SCENARIOS.rawHot, () => rawTransactions(connections, () => 0));
    await measure(name, makeOp, { baseline, ratioOf });
  };

  let hotNight = NIGHT + 1;
  const hotRoom = () => {
    const stay = oneNight('bench-hot', hotNight++);
    return () => stay;
  };
  const soldOut = () => oneNight('bench-sold-out', NIGHT);
  const started = Date.now();
  for (let round = 1; round <= ROUNDS; round += 1) {
    console.log(`round ${round} of ${ROUNDS}`);
    await paired(SCENARIOS.storeDistinct, () => storeBookings(store, distinctRooms), 'distinct');
    await paired(SCENARIOS.apiDistinct, () => apiBookings(port, distinctRooms), 'distinct');
    await paired(SCENARIOS.storeHot, () => storeBookings(store, hotRoom()), 'hot');
    await paired(SCENARIOS.apiHot, () => apiBookings(port, hotRoom()), 'hot');
    await paired(SCENARIOS.storeSoldOut, () => storeBookings(store, soldOut), 'hot', 'answers');
    await paired(SCENARIOS.apiSoldOut, () => apiBookings(port, soldOut), 'hot', 'answers');
    const left = ((Date.now() - started) / round) * (ROUNDS - round);
    if (round < ROUNDS) console.log(`  about ${Math.round(left / 1000)} s to go`);
  }

  await writeResults(order(scenarios), { load, description });
}

/** In the table's order. */
function order(scenarios: Map<string, Scenario>): Scenario[] {
  return Object.values(SCENARIOS).map((name) => scenarios.get(name)!);
}

const percent = (share: number | undefined) =>
  share === undefined ? '-' : `${Math.round(share * 100)}%`;

async function writeResults(
  scenarios: Scenario[],
  run: { load: number; description: string },
): Promise<void> {
  const mid = (values: (number | undefined)[]) => {
    const known = values.filter((v): v is number => v !== undefined);
    return known.length === 0 ? undefined : median(known);
  };
  const cpuCell = (runs: Run[], key: keyof Run['cpu']) => {
    const value = mid(runs.map((r) => r.cpu[key]));
    return value === undefined ? '-' : value.toFixed(2);
  };
  const rows = scenarios.map((s) => {
    const answers = s.runs.map((r) => r.figures.answers);
    const cells = [
      s.name,
      median(s.runs.map((r) => r.figures.successes)).toFixed(0),
      median(answers).toFixed(0),
      `${Math.min(...answers).toFixed(0)}-${Math.max(...answers).toFixed(0)}`,
      median(s.runs.map((r) => r.ratio)).toFixed(2),
      ms(median(s.runs.map((r) => r.figures.p50))),
      ms(median(s.runs.map((r) => r.figures.p99))),
      (['bench', 'api', 'mariadb'] as const).map((key) => cpuCell(s.runs, key)).join(' / '),
      s.runs.reduce((sum, r) => sum + r.figures.failed, 0),
    ];
    return `| ${cells.join(' | ')} |`;
  });
  const spread = (values: number[]) => (Math.max(...values) - Math.min(...values)) / median(values);
  const worst = (values: (s: Scenario) => number[]) =>
    Math.round(100 * Math.max(...scenarios.map((s) => spread(values(s)))));
  const answersSpread = worst((s) => s.runs.map((r) => r.figures.answers));
  const ratioSpread = worst((s) => s.runs.map((r) => r.ratio));
  const others = scenarios.flatMap((s) => s.runs.map((r) => r.others));
  const othersKnown = others.filter((share): share is number => share !== undefined);
  const othersSentence =
    othersKnown.length === 0
      ? ''
      : `Other processes on the machine used ${percent(median(othersKnown))} of its CPU ` +
        `(both cores) in the median timed run, up to ${percent(Math.max(...othersKnown))}. `;
  const noise = options.quick
    ? `Quick mode (${ROUNDS} round of ${SECONDS} s): a smoke test of the script, ` +
      'not a measurement.'
    : `${othersSentence}Between runs, one scenario's answers/s differ by up to ` +
      `${answersSpread}% of its median and its ratio by up to ${ratioSpread}%` +
      (answersSpread > 15
        ? ': the figures are noisy, the machine being shared with the servers and other work.'
        : '.');

  const section = [
    '## Hotel booking, bookings per second on MariaDB',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} by \`npm run bench:hotel-booking\` on ` +
      `${machine()}, with ${run.description} on the same machine; load average ` +
      `${run.load} when it started. ${CLIENTS} clients in a closed loop (each sends its next ` +
      `request when the last is answered), ${SECONDS} s per run after a ` +
      `${WARM_UP_SECONDS} s warm-up, ${ROUNDS} round${ROUNDS === 1 ? '' : 's'}, medians ` +
      'shown. Every booking is one room for one night.',
    '',
    '- **raw transaction**: mysql2 directly, one connection per client: `START TRANSACTION`, ' +
      '`SELECT n FROM bench_rows WHERE id = ? FOR UPDATE`, `UPDATE bench_rows SET n = n + 1 ' +
      'WHERE id = ?`, `COMMIT` (4 round trips). Measured again just before every booking run.',
    '- **`BookingStore.reserve`**: the booking transaction in the benchmark process on the ' +
      `kit's MySQL adapter (pool of ${CLIENTS}): lock the night, read the room type, decrement, ` +
      'insert the booking and its outbox event (7 round trips).',
    '- **`POST /bookings`**: HTTP/1.1 keep-alive to the API in a child process (`main.ts api`, ' +
      'its own pool of 10), a new `Idempotency-Key` each: the idempotency claim and answer ' +
      'in Redis, the room and hotel reads, the transaction, the hold key in Redis.',
    '',
    `Distinct rooms: ${ROOM_TYPES} room types; client _i_ books types _i_, _i_ + ${CLIENTS}, ` +
      `..., never one another client books; the raw transactions use a row per client. One ` +
      `hot room: every client books the same night of one room type of ${MAX_ROOM_QUANTITY} ` +
      'rooms (a fresh night per run), against one row for the raw transactions. Sold out: ' +
      'the same on a room type of 0 rooms, every answer a 409. Successes are bookings made ' +
      "(transactions committed on the raw rows). The ratio divides a run's bookings/s " +
      '(answers/s on the sold-out rows) by the raw transactions/s of the run just before it, ' +
      'and the table shows the median ratio. CPU is milliseconds of CPU time per answer of ' +
      "the benchmark process (the clients, and for the store rows the transaction's client " +
      'side), the API process and MariaDB (which other work may also be using). Failed: ' +
      `errors, and answers other than a booking or \`rooms_unavailable\`. ${noise}`,
    '',
    '| scenario | successes/s | answers/s | lowest-highest | ratio to raw | p50 ms | p99 ms | ' +
      'CPU ms: bench / API / MariaDB | failed |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
  await writeSection(options.out, 'hotel-booking', section);
  console.log(`\nwrote ${options.out}`);
}

const resources = new Resources();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: cleaning up`);
    void resources.release().finally(() => process.exit(130));
  });
}
try {
  await main(resources);
} finally {
  await resources.release();
}
