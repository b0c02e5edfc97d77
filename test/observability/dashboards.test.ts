import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPrometheus, type RunningPrometheus } from './prometheus.ts';
import { OBSERVED, serversFor, type ObservedSystem } from './systems.ts';
import { ROOT, toolPath } from './tools.ts';
import { dropKeyspace, dropSearchIndexes, dropTopics } from '@platform/kit/testing';

/**
 * The dashboards and SLO rules against the real thing: every system with a
 * dashboard, one process per role on the real servers, scraped by a real
 * Prometheus that loads the charts' rules, while k6 runs each system's load
 * test in turn. Then every query of every dashboard under
 * charts/<chart>/dashboards/ must return series over its system's run. A
 * dashboard of a system this test does not start fails here until the test
 * starts that system too (OBSERVED in systems.ts).
 *
 * OBSERVE=chat,navigation runs those systems only and checks their dashboards
 * and rules (for work on one system; CI runs them all).
 */
const run = randomBytes(3).toString('hex');
const namespace = `obs-${run}`;

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
const chartOf = (file: string) => file.slice(chartsDir.length + 1).split('/')[0]!;
const only = (process.env.OBSERVE ?? '').split(',').filter((name) => name !== '');
const chosen = (file: string) => only.length === 0 || only.includes(chartOf(file));
const allDashboardFiles = inCharts('dashboards', '.json');
const dashboardFiles = allDashboardFiles.filter(chosen);
const ruleFiles = inCharts('rules', '.rules.yaml').filter(chosen);
const systemNames = [...new Set(dashboardFiles.map(chartOf))].filter((name) => OBSERVED[name]);

interface LoadRun {
  system: ObservedSystem;
  exitCode: number | null;
  summary: string;
  /** The run's window, in Prometheus time (seconds). */
  startedAt: number;
  evaluatedAt: number;
}

const systems: ObservedSystem[] = [];
const runs = new Map<string, LoadRun>();
let prometheus: RunningPrometheus | undefined;

beforeAll(async () => {
  const servers = serversFor(run);
  const started = await Promise.allSettled(
    systemNames.map((name) => OBSERVED[name]!({ id: run, namespace, servers })),
  );
  for (const result of started) if (result.status === 'fulfilled') systems.push(result.value);
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;

  prometheus = await startPrometheus({ jobs: systems.flatMap((s) => s.jobs), ruleFiles });

  // One system at a time: each run's latency is its own, not the other's CPU.
  for (const system of systems) {
    const startedAt = Date.now() / 1000;
    const { exitCode, summary } = await runK6(system);
    // A few more scrapes and rule evaluations after the last request; holds left to run
    // out are released by then.
    await new Promise((resolve) => setTimeout(resolve, 5000));
    runs.set(system.name, { system, exitCode, summary, startedAt, evaluatedAt: Date.now() / 1000 });
  }
}, 240_000);

afterAll(async () => {
  await prometheus?.stop();
  await Promise.all(systems.map((system) => system.stop()));
  const servers = serversFor(run);
  await Promise.all([
    dropKeyspace(servers.CASSANDRA_KEYSPACE!),
    dropTopics(servers.NAME_PREFIX!),
    dropSearchIndexes(servers.NAME_PREFIX!),
  ]);
}, 60_000);

function runK6(system: ObservedSystem): Promise<{ exitCode: number | null; summary: string }> {
  const settings = { BASE_URL: system.baseUrl, ...system.k6Env };
  const child = spawn(
    toolPath('K6_BIN'),
    [
      'run',
      '--no-usage-report',
      '--quiet',
      ...Object.entries(settings).flatMap(([key, value]) => ['--env', `${key}=${value}`]),
      join(ROOT, `load-tests/${system.name}/script.js`),
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
function substitute(expr: string, window: LoadRun): string {
  const values: Record<string, string> = {
    namespace,
    __rate_interval: '30s',
    __interval: '5s',
    __range: `${Math.ceil(window.evaluatedAt - window.startedAt)}s`,
  };
  return expr.replace(/\$\{(\w+)\}|\$(\w+)/g, (text, braced?: string, bare?: string) => {
    return values[braced ?? bare ?? ''] ?? text;
  });
}

function panelsOf(panels: Panel[]): Panel[] {
  return panels.flatMap((panel) => [panel, ...panelsOf(panel.panels ?? [])]);
}

const readDashboard = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Dashboard;

it('finds the dashboard of every system and starts each one', () => {
  const found = allDashboardFiles.map((file) => file.slice(ROOT.length));
  for (const chart of ['url-shortener', 'hotel-booking', 'navigation', 'chat']) {
    expect(found).toContain(`charts/${chart}/dashboards/${chart}.json`);
  }
  const unobserved = allDashboardFiles.map(chartOf).filter((name) => !OBSERVED[name]);
  expect(unobserved).toEqual([]);
});

it.each(systemNames)('k6 meets every SLO threshold of the %s load test', (name) => {
  const loadRun = runs.get(name)!;
  if (loadRun.exitCode !== 0) {
    throw new Error(`k6 exited with ${loadRun.exitCode}:\n${loadRun.summary}`);
  }
  for (const threshold of loadRun.system.thresholds) expect(loadRun.summary).toContain(threshold);
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
    const loadRun = () => {
      const found = runs.get(chartOf(file));
      if (!found) throw new Error(`${chartOf(file)} was not started: add it to OBSERVED`);
      return found;
    };

    it('has a query for every panel but rows, and every query returns series', async () => {
      const dashboard = readDashboard(file);
      const { evaluatedAt } = loadRun();
      const problems: string[] = [];
      let queries = 0;

      for (const panel of panelsOf(dashboard.panels)) {
        const where = `"${panel.title}"`;
        if (!panel.targets) continue;
        if (panel.targets.length === 0) problems.push(`${where}: no query`);
        for (const target of panel.targets) {
          const expr = substitute(target.expr ?? '', loadRun());
          const at = `${where} ${target.refId}: ${expr}`;
          if (!expr.trim()) {
            problems.push(`${at}: empty query`);
            continue;
          }
          if (expr.includes('$')) {
            problems.push(`${at}: a variable the test does not know`);
            continue;
          }
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

      expect(queries).toBeGreaterThan(0);
      expect(problems).toEqual([]);
    });

    it('fills every query variable with the namespace that ran', async () => {
      const variables = (readDashboard(file).templating?.list ?? []).filter(
        (v) => v.type === 'query',
      );
      const window = loadRun();
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
          'match[]': substitute(selector!, window),
          start: String(window.startedAt),
          end: String(window.evaluatedAt),
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
