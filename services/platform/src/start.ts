// `npm start`: every system (or those SYSTEMS names), in one process on embedded
// stand-ins when no server address is set, or as one process per service when
// all of them are.
import { spawn, type ChildProcess } from 'node:child_process';
import { z } from 'zod';
import {
  ConfigError,
  env,
  hasEveryServer,
  infraSchema,
  isEmbedded,
  loadConfig,
  telemetrySchema,
} from '@platform/kit/config';
import { SYSTEMS as ALL_SYSTEMS, type ProcessSpec, type SystemSpec } from './systems.ts';

// On a laptop the systems' write APIs should not face the network unless asked:
// they listen on loopback by default, on every interface with HOST=0.0.0.0.
process.env.HOST ||= '127.0.0.1';

// PORT is each system's own to validate; here it only matters whether it is set.
const infra = loadConfig(
  infraSchema.extend({
    SYSTEMS: env.list().optional(),
    PORT: z.string().optional(),
    HOST: telemetrySchema.shape.HOST,
  }),
);
const SYSTEMS = chooseSystems(infra.SYSTEMS);
const allServers = hasEveryServer(infra);

try {
  if (allServers) await superviseProcesses();
  else await runInProcess();
} catch (error) {
  // A busy port or a refused configuration is the user's to fix: one line, not a stack trace.
  const own =
    error instanceof ConfigError || (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
  if (!own) throw error;
  process.stderr.write(`cannot start: ${(error as Error).message}\n`);
  process.exit(1);
}

/** The systems SYSTEMS names, all by default; an unknown name stops the launcher. */
function chooseSystems(names: string[] | undefined): SystemSpec[] {
  if (!names || names.length === 0) return ALL_SYSTEMS;
  const known = ALL_SYSTEMS.map((s) => s.name);
  const unknown = names.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    process.stderr.write(`SYSTEMS: unknown ${unknown.join(', ')}; known: ${known.join(', ')}\n`);
    process.exit(1);
  }
  return ALL_SYSTEMS.filter((s) => names.includes(s.name));
}

async function runInProcess(): Promise<void> {
  // Every system reads PORT in one process: it can only be meant for one of them.
  if (infra.PORT && SYSTEMS.length > 1) {
    throw new ConfigError('PORT', 'applies to one system in one process; set SYSTEMS to it');
  }
  const systems = await Promise.all(SYSTEMS.map((system) => system.runInProcess()));
  const stop = async (signal: NodeJS.Signals) => {
    process.stdout.write(`${signal}: stopping\n`);
    const results = await Promise.allSettled(systems.map((lifecycle) => lifecycle.shutdown()));
    process.exit(results.every((r) => r.status === 'fulfilled') ? 0 : 1);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);

  const mode = isEmbedded(infra)
    ? 'embedded stand-ins'
    : 'partly embedded (set every address for one process per service)';
  printReady(mode);
}

async function superviseProcesses(): Promise<void> {
  const children = new Map<string, ChildProcess>();
  let stopping = false;

  const launch = (system: SystemSpec, spec: ProcessSpec) => {
    // Each child gets its own process group, so a Ctrl-C reaches only this
    // supervisor, which then stops every child once, gracefully. The IPC
    // channel lets a child notice when the supervisor is gone.
    const child = spawn(process.execPath, [system.entry, spec.role], {
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      detached: true,
    });
    children.set(`${system.name}/${spec.name}`, child);
    child.on('exit', (code, signal) => {
      if (stopping) return;
      process.stderr.write(
        `${system.name}/${spec.name} exited (${signal ?? code}); restarting in 1 s\n`,
      );
      setTimeout(() => launch(system, spec), 1000);
    });
  };

  for (const system of SYSTEMS) for (const spec of system.processes) launch(system, spec);

  const stop = () => {
    if (stopping) return;
    stopping = true;
    let running = children.size;
    for (const child of children.values()) {
      child.once('exit', () => {
        running -= 1;
        if (running === 0) process.exit(0);
      });
      child.kill('SIGTERM');
    }
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  await Promise.all(SYSTEMS.flatMap((s) => s.processes.map((spec) => waitForReady(spec.port))));
  printReady(`one process per service (${children.size} processes)`);
}

async function waitForReady(port: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`http://${localAddress('probe')}:${port}/readyz`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`port ${port} did not become ready within 120 s`);
}

/** How this machine reaches what listens on HOST: for probes, and for the banner. */
function localAddress(purpose: 'probe' | 'banner'): string {
  const loopback = ['0.0.0.0', '127.0.0.1', '::', '::1'].includes(infra.HOST);
  if (purpose === 'banner' && loopback) return 'localhost';
  if (infra.HOST === '0.0.0.0') return '127.0.0.1';
  if (infra.HOST === '::') return '[::1]';
  return infra.HOST.includes(':') ? `[${infra.HOST}]` : infra.HOST;
}

function printReady(mode: string): void {
  // In one process, PORT (allowed with one system only) moves that system.
  const port = (s: SystemSpec) => (infra.PORT && !allServers ? infra.PORT : s.port);
  const lines = SYSTEMS.map(
    (s) => `  ${s.name.padEnd(16)} http://${localAddress('banner')}:${port(s)}`,
  );
  const reach =
    infra.HOST === '127.0.0.1' || infra.HOST === '::1'
      ? `listening on ${infra.HOST} only (HOST=0.0.0.0 to reach it from other machines)`
      : `listening on ${infra.HOST}: the write APIs take no credentials, keep it off open networks`;
  process.stdout.write(`\nplatform running on ${mode}:\n${lines.join('\n')}\n${reach}\n\n`);
}
