import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const logDir = mkdtempSync(join(tmpdir(), 'url-shortener-e2e-'));

export { freePort } from '@platform/kit/testing';

export interface ServiceProcess {
  name: string;
  url: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  logFile: string;
  kill(signal: NodeJS.Signals): Promise<void>;
}

/**
 * Starts one role of the URL shortener (or of the system whose main.ts is
 * `entry`) as its own process and waits for /readyz.
 */
export async function startRole(
  name: string,
  role: string,
  port: number,
  env: Record<string, string>,
  entry: string = MAIN,
): Promise<ServiceProcess> {
  const logFile = join(logDir, `${name}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, [entry, role], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const url = `http://127.0.0.1:${port}`;

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`${name} exited with ${child.exitCode}:\n${tail(logFile)}`);
    }
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch {
      // still starting
    }
    if (Date.now() > deadline) throw new Error(`${name} not ready in 60 s:\n${tail(logFile)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  return {
    name,
    url,
    child,
    exited,
    logFile,
    async kill(signal) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
  };
}

export function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
