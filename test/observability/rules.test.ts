import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { LATENCY_BUCKETS } from '../../services/kit/src/telemetry/metrics.ts';
import { SEND_TO_DELIVER_BUCKETS } from '../../services/chat/src/metrics.ts';
import { ROOT, toolPath } from './tools.ts';

/**
 * Every chart's Prometheus rules (charts/<chart>/rules/*.rules.yaml) pass
 * `promtool check rules`, and their unit tests (*.test.yaml beside them) pass
 * `promtool test rules` and cover each alert both firing and quiet.
 */
interface RuleFile {
  groups: { name: string; rules: { alert?: string; record?: string }[] }[];
}

interface RuleTestFile {
  rule_files: string[];
  tests: {
    name?: string;
    alert_rule_test?: { alertname: string; exp_alerts?: unknown[] | null }[];
  }[];
}

const chartsDir = join(ROOT, 'charts');
const filesIn = (dir: string, suffix: string) =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((name) => name.endsWith(suffix))
        .map((name) => join(dir, name))
    : [];
const ruleDirs = readdirSync(chartsDir).map((chart) => join(chartsDir, chart, 'rules'));
const ruleFiles = ruleDirs.flatMap((dir) => filesIn(dir, '.rules.yaml'));
const testFiles = ruleDirs.flatMap((dir) => filesIn(dir, '.test.yaml'));
const relative = (path: string) => path.slice(ROOT.length);

function promtool(...args: string[]) {
  const result = spawnSync(toolPath('PROMTOOL_BIN'), args, { encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}${result.error ?? ''}` };
}

/** The rule files a test file loads, as absolute paths. */
function rulesUnderTest(testFile: string): string[] {
  const tests = parse(readFileSync(testFile, 'utf8')) as RuleTestFile;
  return tests.rule_files.map((file) => resolve(dirname(testFile), file));
}

it('finds the rules of every system and their tests', () => {
  for (const chart of ['url-shortener', 'hotel-booking', 'navigation', 'chat']) {
    expect(ruleFiles.map(relative)).toContain(`charts/${chart}/rules/slo.rules.yaml`);
    expect(testFiles.map(relative)).toContain(`charts/${chart}/rules/slo.test.yaml`);
  }
});

describe.each(ruleFiles.map((file) => [relative(file), file]))('%s', (_name, file) => {
  it('passes promtool check rules', () => {
    const { status, output } = promtool('check', 'rules', file);
    expect({ status, output }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  });

  it('has a unit test of every alert firing and staying quiet', () => {
    const rules = parse(readFileSync(file, 'utf8')) as RuleFile;
    const alerts = rules.groups.flatMap((g) => g.rules.flatMap((r) => (r.alert ? [r.alert] : [])));
    expect(alerts.length).toBeGreaterThan(0);

    const cases = testFiles
      .filter((testFile) => rulesUnderTest(testFile).includes(file))
      .flatMap((testFile) => (parse(readFileSync(testFile, 'utf8')) as RuleTestFile).tests)
      .flatMap((test) => test.alert_rule_test ?? []);
    const missing = alerts.flatMap((alert) => {
      const mine = cases.filter((c) => c.alertname === alert);
      return [
        ...(mine.some((c) => (c.exp_alerts ?? []).length > 0)
          ? []
          : [`${alert}: no test fires it`]),
        ...(mine.some((c) => (c.exp_alerts ?? []).length === 0) ? [] : [`${alert}: no quiet test`]),
      ];
    });
    expect(missing).toEqual([]);
  });
});

/** Each latency histogram the rules read, with the buckets the code declares for it. */
const HISTOGRAMS: Record<string, number[]> = {
  http_server_request_duration_seconds: LATENCY_BUCKETS,
  chat_send_to_deliver_seconds: SEND_TO_DELIVER_BUCKETS,
};

describe.each(ruleFiles.map((file) => [relative(file), file]))('%s latency', (_name, file) => {
  it('sets every latency threshold on a bucket boundary of its histogram', () => {
    // A boundary counts requests within the objective exactly; anything else would be
    // compared against the next bucket up, silently loosening the SLO.
    const text = readFileSync(file, 'utf8');
    const thresholds = [...text.matchAll(/(\w+)_bucket\{[^}]*\ble="([^"]+)"/g)].map(
      (match) => `${match[1]} le=${match[2]}`,
    );
    const outside = thresholds.filter((threshold) => {
      const [metric, le] = threshold.split(' le=') as [string, string];
      return !(HISTOGRAMS[metric] ?? []).map(String).includes(le);
    });
    expect(thresholds.length).toBeGreaterThan(0);
    expect(outside).toEqual([]);
  });
});

describe.each(testFiles.map((file) => [relative(file), file]))('%s', (_name, file) => {
  it('passes promtool test rules', () => {
    const { status, output } = promtool('test', 'rules', file);
    expect({ status, output }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  }, 120_000);
});
