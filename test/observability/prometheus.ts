import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from '../../services/url-shortener/test/processes.ts';
import { toolPath } from './tools.ts';

/** One scrape job: the job name a ServiceMonitor would give, and its targets' labels. */
export interface ScrapeJob {
  job: string;
  targets: { address: string; labels: Record<string, string> }[];
}

export interface InstantResult {
  metric: Record<string, string>;
  value: [number, string];
}

export interface RunningPrometheus {
  url: string;
  /** Evaluates a PromQL expression at `time` (seconds); throws with Prometheus's error. */
  query(expr: string, time?: number): Promise<InstantResult[]>;
  /** A GET on the HTTP API, `data` of the answer. */
  api<T>(path: string): Promise<T>;
  log(): string;
  stop(): Promise<void>;
}

/**
 * A real Prometheus in a temporary directory, scraping every second and
 * evaluating the given rule files every second, on a free port.
 */
export async function startPrometheus(options: {
  jobs: ScrapeJob[];
  ruleFiles: string[];
}): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'prometheus-'));
  const config = {
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    rule_files: options.ruleFiles,
    scrape_configs: options.jobs.map(({ job, targets }) => ({
      job_name: job,
      static_configs: targets.map(({ address, labels }) => ({ targets: [address], labels })),
    })),
  };
  writeFileSync(join(dir, 'prometheus.yml'), stringify(config));

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logFile = join(dir, 'prometheus.log');
  const log = createWriteStream(logFile);
  const child: ChildProcess = spawn(
    toolPath('PROMETHEUS_BIN'),
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const readLog = () => readFileSync(logFile, 'utf8');

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited:\n${readLog()}`);
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      // still starting
    }
    if (Date.now() > deadline) throw new Error(`prometheus not ready in 30 s:\n${readLog()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  const api = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${url}/api/v1/${path}`);
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(body.error ?? `HTTP ${response.status}`);
    return body.data;
  };

  return {
    url,
    api,
    async query(expr, time) {
      const params = new URLSearchParams({ query: expr });
      if (time !== undefined) params.set('time', String(time));
      const data = await api<{ resultType: string; result: InstantResult[] }>(`query?${params}`);
      if (data.resultType !== 'vector') throw new Error(`a ${data.resultType}, not a vector`);
      return data.result;
    },
    log: readLog,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
