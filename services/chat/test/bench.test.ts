import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `npm run bench:chat` in its quick mode with 200 connections and 1 s runs,
 * into a file of its own: the section it writes must be whole, with a figure
 * in every cell it fills.
 */
const BENCH = fileURLToPath(new URL('../bench/bench.ts', import.meta.url));

const dir = mkdtempSync(join(tmpdir(), 'chat-bench-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runBench(args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [BENCH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, output })));
}

const cells = (line: string) =>
  line
    .split('|')
    .slice(1, -1)
    .map((cell) => cell.trim());

it('writes its section with the echo baseline and the chat figures', async () => {
  const out = join(dir, 'benchmarks.md');
  const { code, output } = await runBench([
    '--quick',
    '--connections',
    '200',
    '--seconds',
    '1',
    '--out',
    out,
  ]);
  if (code !== 0) throw new Error(`the benchmark exited with ${code}:\n${output}`);
  expect(output).toContain('round 1 of 1');

  const text = readFileSync(out, 'utf8');
  expect(text.match(/<!-- chat:start -->/g)).toHaveLength(1);
  const section = /<!-- chat:start -->([\s\S]*)<!-- chat:end -->/.exec(text)![1]!;
  expect(section).toContain('## Chat, on real servers');
  expect(section).toMatch(/on \d+ cores \(.+\), \d+ GiB, Node\.js v24\./);
  expect(section).toMatch(/load average [\d.]+ when it started, [\d.]+ when it ended/);

  const lines = section.split('\n').filter((line) => line.startsWith('|'));
  expect(cells(lines[0]!)).toEqual([
    'scenario',
    'delivered msg/s',
    'ratio to echo',
    'p50 ms',
    'p99 ms',
    'internal errors',
  ]);
  const rows = lines.slice(2).map(cells);
  expect(rows.map((row) => row[0])).toEqual([
    'bare ws echo',
    'chat, 3 handlers',
    expect.stringMatching(/^chat, paced at \d+\/s$/),
  ]);
  for (const [name, perSecond, ratio, p50, p99, errors] of rows) {
    expect({ name, perSecond: Number(perSecond) > 0 }).toEqual({ name, perSecond: true });
    expect(Number(p50)).toBeGreaterThan(0);
    expect(Number(p99)).toBeGreaterThanOrEqual(Number(p50));
    expect(Number(errors)).toBeGreaterThanOrEqual(0);
    if (name === 'bare ws echo') expect(ratio).toBe('1.00');
    if (name === 'chat, 3 handlers') expect(Number(ratio)).toBeGreaterThan(0);
  }
}, 120_000);
