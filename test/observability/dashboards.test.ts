import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serverAddress } from '@platform/kit/testing';
import {
  freePort,
  startRole,
  type ServiceProcess,
} from '../../services/url-shortener/test/processes.ts';
import { startPrometheus, type RunningPrometheus } from './prometheus.ts';
import { ROOT, toolPath } from './tools.ts';

/**
 * The dashboards and SLO rules against the real thing: the URL shortener, one
 * process per role on the real servers, scraped by a real Prometheus that
 * loads the charts' rules, while k6 runs the load test. Then every query of
 * every dashboard under charts/<chart>/dashboards/ must return series. A
 * dashboard of a system this test does not start fails here until the test
 * starts that system too.
 */
const RATE = 30;
const DURATION_S = 20;

const run = randomBytes(3).toString('hex');
const namespace = `obs-${run}`;
const env: Record<string, string> = {
  KAFKA_BROKERS: serverAddress('KAFKA_BROKERS'),
  REDIS_URL: serverAddress('REDIS_URL'),
  MYSQL_URL: serverAddress('MYSQL_URL'),
  CASSANDRA_CONTACT_POINTS: serverAddress('CASSANDRA_CONTACT_POINTS'),
  // Other suites run the shortener on the same servers at the same time.
  CASSANDRA_KEYSPACE: `obs_${run}`,
  NAME_PREFIX: `obs-${run}.`,
  CODE_SECRET: `obs-secret-${run}`,
  LOG_LEVEL: 'warn',
  // k6 is one client; leases and flushes often enough to show on the panels.
  CREATE_RATE_LIMIT: '1000000',
  LEASE_SIZE: '20',
  CLICK_FLUSH_MS: '500',
};

interface Target {
  refId?: string;
  expr?: string;
}

interface Panel {
  title?: string;
  targets?: Target[];
  panels?: Panel[];
}

interface Variable {
  name: string;
  type: string;
  query?: string | { query?: string };
}

interface Dashboard {
  title: string;
  panels: Panel[];
  templating?: { list: Variable[] };
}

const chartsDir = join(ROOT, 'charts');
const inCharts = (folder: string, suffix: string) =>
  readdirSync(chartsDir).flatMap((chart) => {
    const dir = join(chartsDir, chart, folder);
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((name) => name.endsWith(suffix))
      .map((name) => join(dir, name));
  });
const dashboardFiles = inCharts('dashboards', '.json');
const ruleFiles = inCharts('rules', '.rules.yaml');

const processes: ServiceProcess[] = [];
let prometheus: RunningPrometheus | undefined;
let k6: { exitCode: number | null; summary: string };
let startedAt: number;
let evaluatedAt: number;

beforeAll(async () => {
  const started = (service: ServiceProcess) => {
    processes.push(service);
    return service;
  };
  const [tokenPort, aggregatorPort, apiPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  // Settled, not raced: a role that fails must not leave the other running unseen.
  const [tokenService, aggregator] = await Promise.allSettled([
    startRole('token-service', 'token-service', tokenPort, {
      ...env,
      TOKEN_SERVICE_PORT: String(tokenPort),
    }).then(started),
    startRole('click-aggregator', 'click-aggregator', aggregatorPort, {
      ...env,
      AGGREGATOR_PORT: String(aggregatorPort),
    }).then(started),
  ]);
  if (tokenService.status === 'rejected') throw tokenService.reason;
  if (aggregator.status === 'rejected') throw aggregator.reason;
  const api = await startRole('api', 'api', apiPort, {
    ...env,
    PORT: String(apiPort),
    PUBLIC_BASE_URL: `http://127.0.0.1:${apiPort}`,
    TOKEN_SERVICE_URLS: tokenService.value.url,
  }).then(started);

  // The labels the charts' ServiceMonitors give: job is the Service's name.
  const target = (role: string, port: number) => ({
    job: `url-shortener-${role}`,
    targets: [
      {
        address: `127.0.0.1:${port}`,
        labels: { namespace, pod: `url-shortener-${role}-${run}` },
      },
    ],
  });
  prometheus = await startPrometheus({
    jobs: [
      target('api', apiPort),
      target('token-service', tokenPort),
      target('click-aggregator', aggregatorPort),
    ],
    ruleFiles,
  });
  startedAt = Date.now() / 1000;

  k6 = await runK6(api.url);
  // A few more scrapes and rule evaluations after the last request.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  evaluatedAt = Date.now() / 1000;
}, 170_000);

afterAll(async () => {
  await prometheus?.stop();
  await Promise.all(processes.map((service) => service.kill('SIGTERM')));
});

function runK6(baseUrl: string): Promise<{ exitCode: number | null; summary: string }> {
  const child = spawn(
    toolPath('K6_BIN'),
    [
      'run',
      '--no-usage-report',
      '--quiet',
      ...['--env', `BASE_URL=${baseUrl}`],
      ...['--env', `RATE=${RATE}`],
      ...['--env', `DURATION=${DURATION_S}s`],
      join(ROOT, 'load-tests/url-shortener/script.js'),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let summary = '';
  child.stdout.on('data', (chunk: Buffer) => (summary += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (summary += chunk.toString()));
  return new Promise((resolve) => {
    child.once('error', (error) => resolve({ exitCode: null, summary: String(error) }));
    child.once('close', (exitCode) => resolve({ exitCode, summary }));
  });
}

/** Grafana's variables as Grafana would fill them for the run just made. */
function substitute(expr: string): string {
  const values: Record<string, string> = {
    namespace,
    __rate_interval: '30s',
    __interval: '5s',
    __range: `${Math.ceil(evaluatedAt - startedAt)}s`,
  };
  return expr.replace(/\$\{(\w+)\}|\$(\w+)/g, (text, braced?: string, bare?: string) => {
    return values[braced ?? bare ?? ''] ?? text;
  });
}

function panelsOf(panels: Panel[]): Panel[] {
  return panels.flatMap((panel) => [panel, ...panelsOf(panel.panels ?? [])]);
}

const readDashboard = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Dashboard;

it('finds the URL shortener dashboard', () => {
  expect(dashboardFiles.map((file) => file.slice(ROOT.length))).toContain(
    'charts/url-shortener/dashboards/url-shortener.json',
  );
});

it('k6 meets every SLO threshold of the load test', () => {
  if (k6.exitCode !== 0) throw new Error(`k6 exited with ${k6.exitCode}:\n${k6.summary}`);
  for (const threshold of [
    "http_req_duration{op:redirect}\n    ✓ 'p(99)<100'",
    "http_req_duration{op:create}\n    ✓ 'p(95)<250'",
    "http_req_failed\n    ✓ 'rate<0.001'",
  ]) {
    expect(k6.summary).toContain(threshold);
  }
});

it('Prometheus evaluates every rule of the charts without error', async () => {
  const data = await prometheus!.api<{
    groups: { name: string; rules: { name: string; health: string; lastError?: string }[] }[];
  }>('rules');
  const rules = data.groups.flatMap((group) => group.rules);
  const unhealthy = rules
    .filter((rule) => rule.health !== 'ok' || rule.lastError)
    .map((rule) => `${rule.name}: ${rule.health} ${rule.lastError ?? ''}`);

  expect(rules.length).toBeGreaterThan(0);
  expect(unhealthy).toEqual([]);
});

describe.each(dashboardFiles.map((file) => [file.slice(ROOT.length), file]))(
  '%s',
  (_name, file) => {
    it('has a query for every panel but rows, and every query returns series', async () => {
      const dashboard = readDashboard(file);
      const problems: string[] = [];
      let queries = 0;

      for (const panel of panelsOf(dashboard.panels)) {
        const where = `"${panel.title}"`;
        if (!panel.targets) continue;
        if (panel.targets.length === 0) problems.push(`${where}: no query`);
        for (const target of panel.targets) {
          const expr = substitute(target.expr ?? '');
          const at = `${where} ${target.refId}: ${expr}`;
          if (!expr.trim()) problems.push(`${at}: empty query`);
          else if (expr.includes('$')) problems.push(`${at}: a variable the test does not know`);
          else {
            queries += 1;
            try {
              const result = await prometheus!.query(expr, evaluatedAt);
              if (result.length === 0) problems.push(`${at}: no series`);
              else if (result.every((series) => series.value[1] === 'NaN')) {
                problems.push(`${at}: only NaN (no traffic in its window?)`);
              }
            } catch (error) {
              problems.push(`${at}: ${(error as Error).message}`);
            }
          }
        }
      }

      expect(queries).toBeGreaterThan(0);
      expect(problems).toEqual([]);
    });

    it('fills every query variable with the namespace that ran', async () => {
      const variables = (readDashboard(file).templating?.list ?? []).filter(
        (v) => v.type === 'query',
      );
      const problems: string[] = [];

      for (const variable of variables) {
        const query = typeof variable.query === 'string' ? variable.query : variable.query?.query;
        const match = /^label_values\((.+),\s*(\w+)\)$/.exec(query ?? '');
        if (!match) {
          problems.push(
            `${variable.name}: only label_values(selector, label) is checked: ${query}`,
          );
          continue;
        }
        const [, selector, label] = match;
        const params = new URLSearchParams({
          'match[]': substitute(selector!),
          start: String(startedAt),
          end: String(evaluatedAt),
        });
        const series = await prometheus!.api<Record<string, string>[]>(`series?${params}`);
        const values = new Set(series.map((labels) => labels[label!]));
        if (variable.name === 'namespace' && !values.has(namespace)) {
          problems.push(`${variable.name}: ${query} gives ${[...values].join(', ') || 'nothing'}`);
        } else if (values.size === 0) {
          problems.push(`${variable.name}: ${query} gives nothing`);
        }
      }
      expect(problems).toEqual([]);
    });
  },
);
