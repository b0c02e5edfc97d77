import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { MysqlRelational } from '@platform/kit';
import { serverAddress } from '@platform/kit/testing';
import { SCENARIOS } from '../bench/scenarios.ts';

/**
 * `npm run bench:hotel-booking` in its quick mode (one round of 1 s runs),
 * into a file of its own: the section it writes must be whole, with a
 * figure in every cell, and the database and Redis keys it used must be gone.
 */
const BENCH = fileURLToPath(new URL('../bench/bench.ts', import.meta.url));

const dir = mkdtempSync(join(tmpdir(), 'hotel-bench-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runBench(args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [BENCH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, output })));
}

it('writes its section, well-formed and with figures, and cleans up after itself', async () => {
  const out = join(dir, 'benchmarks.md');
  const database = `hotel_bench_test_${randomBytes(4).toString('hex')}`;
  const { code, output } = await runBench(['--quick', '--out', out, '--database', database]);
  if (code !== 0) throw new Error(`the benchmark exited with ${code}:\n${output}`);
  expect(output).toContain('round 1 of 1');

  const text = readFileSync(out, 'utf8');
  expect(text.match(/<!-- hotel-booking:start -->/g)).toHaveLength(1);
  expect(text.match(/<!-- hotel-booking:end -->/g)).toHaveLength(1);
  const section = /<!-- hotel-booking:start -->([\s\S]*)<!-- hotel-booking:end -->/.exec(text)![1]!;
  expect(section).toContain('## Hotel booking, bookings per second on MariaDB');
  expect(section).toMatch(/on \d+ cores \(.+\), \d+ GiB, Node\.js v24\./);
  expect(section).toContain('Quick mode');

  const lines = section.split('\n').filter((line) => line.startsWith('|'));
  const header = cells(lines[0]!);
  expect(header).toEqual([
    'scenario',
    'successes/s',
    'answers/s',
    'lowest-highest',
    'ratio to raw',
    'p50 ms',
    'p99 ms',
    'CPU ms: bench / API / MariaDB',
    'failed',
  ]);
  expect(lines[1]).toMatch(/^\|[-| ]+\|$/);
  const rows = lines.slice(2).map(cells);
  expect(rows.map((row) => row[0])).toEqual(Object.values(SCENARIOS));

  for (const row of rows) {
    const [name, successes, answers, range, ratio, p50, p99, cpu, failed] = row;
    const soldOut = name!.includes('sold out');
    expect({ name, successes: Number(successes) > 0 }).toEqual({ name, successes: !soldOut });
    expect({ name, answers: Number(answers) }).toEqual({ name, answers: expect.any(Number) });
    expect(Number(answers)).toBeGreaterThan(0);
    expect(range).toMatch(/^\d+-\d+$/);
    expect(Number(ratio)).toBeGreaterThan(0);
    if (name!.startsWith('raw')) expect(ratio).toBe('1.00');
    expect(Number(p50)).toBeGreaterThan(0);
    expect(Number(p99)).toBeGreaterThanOrEqual(Number(p50));
    // Where /proc can be read, figures; the API's only on its own rows.
    const [bench, api, mariadb] = cpu!.split(' / ');
    for (const value of [bench, mariadb]) expect(value).toMatch(/^(\d+\.\d\d|-)$/);
    expect(api).toMatch(name!.startsWith('POST') ? /^(\d+\.\d\d|-)$/ : /^-$/);
    expect({ name, failed }).toEqual({ name, failed: '0' });
  }

  const server = new MysqlRelational(serverAddress('MYSQL_URL'), { connectionLimit: 1 });
  const redis = new Redis(serverAddress('REDIS_URL'));
  try {
    const left = await server.query(
      'SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
      [database],
    );
    expect(left).toEqual([]);
    const keys: string[] = [];
    const match = `${database.replaceAll('_', '-')}.*`;
    for await (const batch of redis.scanStream({ match, count: 1000 })) {
      keys.push(...(batch as string[]));
    }
    expect(keys).toEqual([]);
  } finally {
    await server.close();
    await redis.quit();
  }
}, 180_000);

const cells = (line: string) =>
  line
    .split('|')
    .slice(1, -1)
    .map((cell) => cell.trim());
