// `npm run load -- <system> [--rate N] [--duration 30s] [--base-url URL]`: the
// system's k6 script (load-tests/<system>/script.js) against the platform,
// started here as `npm start` would (embedded stand-ins unless every server
// address is set), or against a running one given --base-url. Prints k6's
// summary and exits with k6's code: 0 when every SLO threshold held, 99 when
// one did not.
//
// `npm run load -- <system> --write-testrun` copies the script, with
// load-tests/shared.js written in place of its import, into the ConfigMap of
// load-tests/<system>/testrun.yaml, the k6 operator's TestRun.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { hasEveryServer, infraSchema, loadConfig } from '@platform/kit/config';
import { SYSTEMS } from '../services/platform/src/systems.ts';
import { clusterScript } from './k6-script.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const usage =
  'usage: npm run load -- <system> [--rate N] [--duration 30s] [--base-url URL]\n' +
  '       npm run load -- <system> --write-testrun\n' +
  `systems: ${loadTestedSystems().join(', ')}`;

// An entry point, like the launcher: the environment is read here, once.
const environment: Record<string, string | undefined> = { ...process.env };
const config = loadConfig(
  infraSchema.extend({
    K6_BIN: z.string().optional(),
    // The launcher's in-process mode honours PORT; one process per service uses fixed ports.
    PORT: z.coerce.number().int().min(1).max(65535).optional(),
  }),
  environment,
);

const args = parseCommandLine();
const system = SYSTEMS.find((s) => s.name === args.system);
const script = join(root, 'load-tests', args.system, 'script.js');
if (!existsSync(script)) fail(`no k6 script at ${script}\n${usage}`);
if (args.writeTestRun) {
  writeTestRun();
  process.exit(0);
}
const k6 = findK6();

let platform: ChildProcess | undefined;
let platformLog: string | undefined;
process.once('SIGINT', () => void stopPlatform().then(() => process.exit(130)));
process.once('SIGTERM', () => void stopPlatform().then(() => process.exit(143)));

let baseUrl = args.baseUrl;
if (baseUrl) {
  const ready = await fetch(`${baseUrl}/readyz`).then(
    (response) => response.ok,
    () => false,
  );
  if (!ready) fail(`nothing ready at ${baseUrl}/readyz: is ${args.system} running there?`);
} else {
  if (!system) fail(`${args.system} is not a system the platform runs\n${usage}`);
  const oneProcessPerService = hasEveryServer(config);
  const port = oneProcessPerService || !config.PORT ? system.port : config.PORT;
  baseUrl = `http://127.0.0.1:${port}`;
  await startPlatform(port);
}

const code = await runK6(baseUrl);
await stopPlatform();
// The platform's log is kept only when something went wrong.
if (code === 0 && platformLog) rmSync(platformLog, { force: true });
process.exit(code);

/** Seconds in a k6-style duration ("90", "30s", "5m", "1h30m"), NaN when it is not one. */
function seconds(text: string): number {
  const parts = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?$/.exec(text);
  if (!parts || text === '') return NaN;
  const [, h = '0', m = '0', s = '0'] = parts;
  return Number(h) * 3600 + Number(m) * 60 + Number(s);
}

function parseCommandLine(): {
  system: string;
  rate?: string;
  duration?: string;
  baseUrl?: string;
  writeTestRun: boolean;
} {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        rate: { type: 'string' },
        duration: { type: 'string' },
        'base-url': { type: 'string' },
        'write-testrun': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    fail(`${(error as Error).message}\n${usage}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  if (positionals.length !== 1) fail(usage);
  if (values.rate !== undefined && !/^[1-9]\d*$/.test(values.rate)) {
    fail(`--rate must be a whole number of iterations per second, not "${values.rate}"`);
  }
  const duration = values.duration === undefined ? undefined : seconds(values.duration);
  if (duration !== undefined && Number.isNaN(duration)) {
    fail(`--duration must look like 30s, 5m or 1h30m, not "${values.duration}"`);
  }
  if (duration !== undefined && duration < 2) fail('--duration must be 2s or more');
  return {
    system: positionals[0]!,
    rate: values.rate,
    duration: values.duration,
    baseUrl: values['base-url']?.replace(/\/+$/, ''),
    writeTestRun: values['write-testrun'],
  };
}

function loadTestedSystems(): string[] {
  return readdirSync(join(root, 'load-tests'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);
}

/**
 * Replaces the script in the TestRun file's ConfigMap (the block after
 * `script.js: |`, up to the next document) with the script as it is now,
 * load-tests/shared.js written in place of its import.
 */
function writeTestRun(): void {
  const file = join(root, 'load-tests', args.system, 'testrun.yaml');
  if (!existsSync(file)) fail(`no TestRun at ${file}`);
  const lines = readFileSync(file, 'utf8').split('\n');
  const start = lines.findIndex((line) => /^ {2}script\.js: \|$/.test(line));
  const end = lines.findIndex((line, i) => i > start && line.startsWith('---'));
  if (start < 0 || end < 0) fail(`${file} has no "  script.js: |" block before a "---" line`);

  const block = clusterScript(root, args.system)
    .replace(/\n$/, '')
    .split('\n')
    .map((line) => (line.trim() === '' ? '' : `    ${line}`));
  lines.splice(start + 1, end - start - 1, ...block);
  writeFileSync(file, lines.join('\n'));
  process.stderr.write(`wrote ${file}\n`);
}

/** K6_BIN, else the k6 that scripts/tools.sh built, else a k6 on the PATH. */
function findK6(): string {
  if (config.K6_BIN) return config.K6_BIN;
  let status = '';
  try {
    status = execFileSync('bash', [join(root, 'scripts/tools.sh'), 'status'], { encoding: 'utf8' });
  } catch {
    // reported below
  }
  const built = /^k6: (\/\S+)$/m.exec(status)?.[1];
  if (built) return built;
  try {
    execFileSync('k6', ['version'], { stdio: 'ignore' });
    return 'k6';
  } catch {
    fail('no k6: install k6 2.2 on the PATH, set K6_BIN, or run scripts/tools.sh install k6');
  }
}

/** `npm start`, its output in a log file so k6's summary stays readable. */
async function startPlatform(port: number): Promise<void> {
  if (!(await portIsFree(port))) {
    fail(
      `port ${port} is in use, by another platform perhaps: stop it, ` +
        `or load it with --base-url http://127.0.0.1:${port}`,
    );
  }
  const logFile = join(tmpdir(), `platform-load-${args.system}-${Date.now()}.log`);
  platformLog = logFile;
  const log = openSync(logFile, 'a');
  process.stderr.write(`starting the platform (log: ${logFile})\n`);

  const child = spawn(process.execPath, [join(root, 'services/platform/src/start.ts')], {
    env: {
      ...environment,
      LOG_LEVEL: environment.LOG_LEVEL ?? 'warn',
      // Only the system under load: the others would take ports and cores.
      SYSTEMS: args.system,
      // k6 is one client; the per-client create limit would measure the limiter.
      CREATE_RATE_LIMIT: environment.CREATE_RATE_LIMIT ?? '1000000',
    },
    stdio: ['ignore', log, log],
    // Its own process group: a Ctrl-C reaches k6, which prints its summary, and
    // the platform is then stopped once, from here.
    detached: true,
  });
  platform = child;

  // The launcher prints its banner once every process answers /readyz.
  const deadline = Date.now() + 180_000;
  while (!readFileSync(logFile, 'utf8').includes('platform running on')) {
    if (child.exitCode !== null || child.signalCode !== null) {
      fail(`the platform exited (${child.exitCode ?? child.signalCode}):\n${tail(logFile)}`);
    }
    if (Date.now() > deadline) {
      await stopPlatform();
      fail(`the platform was not ready in 180 s:\n${tail(logFile)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function stopPlatform(): Promise<void> {
  const child = platform;
  platform = undefined;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const force = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(force);
}

function runK6(target: string): Promise<number> {
  const settings = [
    `BASE_URL=${target}`,
    ...(args.rate ? [`RATE=${args.rate}`] : []),
    ...(args.duration ? [`DURATION=${args.duration}`] : []),
  ];
  process.stderr.write(`k6 run ${args.system} against ${target} (${settings.join(' ')})\n`);
  const child = spawn(
    k6,
    [
      'run',
      '--no-usage-report',
      // Progress lines every second flood a log; a terminal redraws them in place.
      ...(process.stdout.isTTY ? [] : ['--quiet']),
      ...settings.flatMap((setting) => ['--env', setting]),
      script,
    ],
    { stdio: 'inherit' },
  );
  return new Promise((resolve) => {
    child.once('error', (error) => {
      process.stderr.write(`k6 did not start: ${error.message}\n`);
      resolve(1);
    });
    child.once('exit', (exitCode) => resolve(exitCode ?? 1));
  });
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '0.0.0.0', () => probe.close(() => resolve(true)));
  });
}

function tail(file: string): string {
  return readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}
