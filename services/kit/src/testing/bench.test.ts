import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuMeter, median, writeSection } from './bench.ts';

const dir = mkdtempSync(join(tmpdir(), 'bench-helpers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeSection', () => {
  it('replaces its own section and keeps the rest of the file as it was', async () => {
    const file = join(dir, 'replace.md');
    writeFileSync(
      file,
      '# Benchmarks\n\nIntro.\n\n<!-- a:start -->\n\n## A\n\nold\n\n<!-- a:end -->\n\n' +
        '<!-- b:start -->\n\n## B\n\nkept\n\n<!-- b:end -->\n',
    );
    await writeSection(file, 'a', '## A\n\nnew, with $& and $1 as they are');
    expect(readFileSync(file, 'utf8')).toBe(
      '# Benchmarks\n\nIntro.\n\n<!-- a:start -->\n\n## A\n\nnew, with $& and $1 as they are\n\n' +
        '<!-- a:end -->\n\n<!-- b:start -->\n\n## B\n\nkept\n\n<!-- b:end -->\n',
    );
  });

  it('appends a section the file does not have yet, and starts a missing file', async () => {
    const file = join(dir, 'new.md');
    await writeSection(file, 'a', '## A\n\n| x | y |\n|---|---|\n| 1 | 22 |');
    await writeSection(file, 'b', '## B');
    expect(readFileSync(file, 'utf8')).toBe(
      '# Benchmarks\n\nFigures written by the benchmark scripts; each section says how it was ' +
        'measured.\n\n<!-- a:start -->\n\n## A\n\n| x   | y   |\n| --- | --- |\n| 1   | 22  |\n\n' +
        '<!-- a:end -->\n\n<!-- b:start -->\n\n## B\n\n<!-- b:end -->\n',
    );
  });
});

it('median takes the middle value, the upper one of an even count', () => {
  expect(median([3, 1, 2])).toBe(2);
  expect(median([4, 1, 3, 2])).toBe(3);
  expect(() => median([])).toThrow();
});

it('cpuMeter counts the CPU time this process spends', () => {
  const stop = cpuMeter({ self: process.pid, gone: undefined });
  // Spin until node's own accounting says 100 ms of CPU went by: on a loaded
  // machine a wall-clock loop of that length can get far less of it.
  const start = process.cpuUsage();
  const spent = () => {
    const { user, system } = process.cpuUsage(start);
    return (user + system) / 1000;
  };
  while (spent() < 100) Math.sqrt(Math.random());
  const use = stop();
  if (use.used.self === undefined) return; // no /proc here
  expect(use.used.self).toBeGreaterThanOrEqual(50);
  expect(use.used.gone).toBeUndefined();
  expect(use.others).toBeUndefined();
});
