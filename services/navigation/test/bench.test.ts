import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `npm run bench:navigation` in its quick mode, into a file of its own: the section must be
 * whole, with a figure in every cell of every table, for both extracts.
 */
const BENCH = fileURLToPath(new URL('../bench/bench.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'navigation-bench-test-'));
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

it('writes its section with a figure in every cell, GraphHopper included', async () => {
  const out = join(dir, 'benchmarks.md');
  const { code, output } = await runBench(['--quick', '--out', out]);
  if (code !== 0) throw new Error(`the benchmark exited with ${code}:\n${output}`);

  const text = readFileSync(out, 'utf8');
  const section = /<!-- navigation:start -->([\s\S]*)<!-- navigation:end -->/.exec(text)![1]!;
  expect(section).toMatch(/on \d+ cores \(.+\), \d+ GiB, Node\.js v24\./);

  // Four tables, each with a header, a rule and one row per extract.
  const tables = section
    .split(/\n\s*\n/)
    .map((block) => block.split('\n').filter((line) => line.startsWith('|')))
    .filter((lines) => lines.length > 0);
  expect(tables).toHaveLength(4);
  for (const [header, rule, ...rows] of tables) {
    expect(rule).toMatch(/^\|[-| ]+\|$/);
    expect(rows.map((row) => cells(row)[0])).toEqual(['andorra', 'monaco']);
    for (const row of rows) {
      const values = cells(row);
      expect(values).toHaveLength(cells(header!).length);
      // Every figure is there: numbers, ratios or counts, never empty, NaN or a dash.
      for (const value of values.slice(1)) expect(value).toMatch(/^[*\d]/);
    }
  }
  // The overlay settles fewer nodes than Dijkstra on Andorra, whatever the machine.
  const andorra = cells(tables[0]!.find((line) => line.startsWith('| andorra'))!);
  const number = (value: string) => Number(value.replaceAll(',', ''));
  expect(number(andorra[2]!)).toBeLessThan(number(andorra[1]!));
}, 240_000);
