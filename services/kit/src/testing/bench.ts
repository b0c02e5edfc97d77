// Helpers the benchmark scripts (services/*/bench/) share: the processes they
// start, the machine they ran on, and their section of docs/benchmarks.md.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';

/** Node processes started by a benchmark, so that all of them can be stopped at the end. */
export class ChildProcesses {
  readonly #children = new Set<ChildProcess>();
  readonly #env: Record<string, string>;

  /** env: added to this process's environment for every child. */
  constructor(env: Record<string, string> = {}) {
    this.#env = env;
  }

  /** Runs `node <args>` with stdout discarded and stderr shown. */
  start(args: string[], env: Record<string, string> = {}): ChildProcess {
    const child = spawn(process.execPath, args, {
      env: { ...process.env, ...this.#env, ...env },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    this.#children.add(child);
    child.once('exit', () => this.#children.delete(child));
    return child;
  }

  /** SIGTERM, then waits for the exit. */
  async stop(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.#children].map((child) => this.stop(child)));
  }
}

/** Resolves once url answers at all (any status), polling every 200 ms. */
export async function waitFor(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      await (await fetch(url, { redirect: 'manual' })).arrayBuffer();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  throw new Error(`${url} did not answer in ${timeoutMs / 1000} s`);
}

/** The middle value; of an even count, the upper of the two middle ones. */
export function median(values: number[]): number {
  if (values.length === 0) throw new Error('median of nothing');
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

/** "2 cores (Intel(R) Xeon(R) Processor), 24 GiB, Node.js v24.22.3": for a section's first line. */
export function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return (
    `${cpus().length} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB, ` +
    `Node.js ${process.version}`
  );
}

/** The one-minute load average, which says how busy the machine was with other work. */
export function loadAverage(): number {
  return Math.round(loadavg()[0]! * 100) / 100;
}

/**
 * Writes a benchmark's section into a markdown file (docs/benchmarks.md):
 * the text between `<!-- name:start -->` and `<!-- name:end -->` is replaced,
 * or the section is appended when the markers are not there yet; the rest of
 * the file is kept. The file is then formatted as `prettier --check` wants it.
 */
export async function writeSection(file: string, name: string, body: string): Promise<void> {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const section = `${start}\n\n${body.trim()}\n\n${end}`;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    text =
      '# Benchmarks\n\nFigures written by the benchmark scripts; ' +
      'each section says how it was measured.\n\n';
  }
  const from = text.indexOf(start);
  const to = text.indexOf(end, from);
  text =
    from >= 0 && to >= 0
      ? text.slice(0, from) + section + text.slice(to + end.length)
      : `${text.trimEnd()}\n\n${section}\n`;
  // Loaded here: only the benchmark scripts need it.
  const { format } = await import('prettier');
  writeFileSync(file, await format(text, { parser: 'markdown', printWidth: 100 }));
}

/** CPU time over a stretch of a run, from /proc (Linux); undefined where it cannot be read. */
export interface CpuUse {
  /** Milliseconds of CPU each named process used. */
  used: Record<string, number | undefined>;
  /** The share of the whole machine's CPU (all cores) that every other process used. */
  others: number | undefined;
}

/** USER_HZ: /proc counts CPU time in ticks of 10 ms on every architecture Node runs on. */
const TICK_MS = 10;

function processTicks(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After "pid (comm) ", the fields from the third on; utime and stime are the 14th and 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

function machineTicks(): { busy: number; total: number } | undefined {
  try {
    const [line] = readFileSync('/proc/stat', 'utf8').split('\n', 1);
    // user nice system idle iowait irq softirq steal (guest time is inside user).
    const fields = line!.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = fields.reduce((sum, n) => sum + n, 0);
    return { busy: total - fields[3]! - fields[4]!, total };
  } catch {
    return undefined;
  }
}

/**
 * Starts counting the CPU time of the named processes and of the machine;
 * the function returned stops and tells what each used, and what the rest of
 * the machine's work took, which says how much other work the figures shared
 * the cores with.
 */
export function cpuMeter(pids: Record<string, number | undefined>): () => CpuUse {
  const read = () => ({
    processes: Object.fromEntries(
      Object.entries(pids).map(([name, pid]) => [name, processTicks(pid)]),
    ),
    machine: machineTicks(),
  });
  const before = read();
  return () => {
    const after = read();
    const used: Record<string, number | undefined> = {};
    for (const name of Object.keys(pids)) {
      const [from, to] = [before.processes[name], after.processes[name]];
      used[name] = from === undefined || to === undefined ? undefined : (to - from) * TICK_MS;
    }
    let others: number | undefined;
    const known = Object.values(used);
    if (before.machine && after.machine && known.every((ms) => ms !== undefined)) {
      const total = (after.machine.total - before.machine.total) * TICK_MS;
      const busy = (after.machine.busy - before.machine.busy) * TICK_MS;
      const ours = known.reduce((sum: number, ms) => sum + ms!, 0);
      others = total > 0 ? Math.max(0, busy - ours) / total : undefined;
    }
    return { used, others };
  };
}
