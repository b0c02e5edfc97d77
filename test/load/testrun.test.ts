import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { ROOT } from '../observability/tools.ts';

/**
 * The URL shortener's load test as the cluster runs it (the k6 operator's
 * TestRun with the script in a ConfigMap) is the script in load-tests/, and
 * its thresholds are the SLOs of the chart's rules.
 */
const dir = join(ROOT, 'load-tests/url-shortener');
const script = readFileSync(join(dir, 'script.js'), 'utf8');

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  spec?: { script?: { configMap?: { name: string; file?: string } } };
}

it('the TestRun runs the script in load-tests/ from its ConfigMap', () => {
  const manifests = parseAllDocuments(readFileSync(join(dir, 'testrun.yaml'), 'utf8')).map(
    (document) => document.toJS() as Manifest,
  );
  const testRun = manifests.find((m) => m.apiVersion === 'k6.io/v1alpha1' && m.kind === 'TestRun');
  const source = testRun?.spec?.script?.configMap;
  const configMap = manifests.find(
    (m) => m.kind === 'ConfigMap' && m.metadata.name === source?.name,
  );

  expect(source).toEqual({ name: expect.any(String), file: 'script.js' });
  expect(configMap).toBeDefined();
  if (configMap!.data?.['script.js'] !== script) {
    throw new Error(
      'the ConfigMap in load-tests/url-shortener/testrun.yaml holds another script.js than ' +
        'load-tests/url-shortener/script.js: npm run load -- url-shortener --write-testrun',
    );
  }
});

it("the script's thresholds are the SLOs of the chart's rules", () => {
  const rules = parse(
    readFileSync(join(ROOT, 'charts/url-shortener/rules/slo.rules.yaml'), 'utf8'),
  ) as { groups: { name: string; rules: { record?: string; alert?: string; expr: string }[] }[] };
  const group = (name: string) => {
    const found = rules.groups.find((g) => g.name === name)!;
    const recorded = found.rules.find((r) => r.record?.endsWith(':ratio_rate5m'))!.expr;
    const fastBurn = found.rules.find((r) => r.alert?.endsWith('FastBurn'))!.expr;
    return {
      seconds: Number(/le="([\d.]+)"/.exec(recorded)?.[1]),
      budget: Number(/\(14\.4 \* ([\d.]+)\)/.exec(fastBurn)?.[1]),
    };
  };
  const latency = (name: string) => {
    const { seconds, budget } = group(name);
    return `p(${Math.round(100 * (1 - budget))})<${Math.round(seconds * 1000)}`;
  };

  expect(script).toContain(
    `'http_req_duration{op:redirect}': ['${latency('url-shortener-slo-redirect-latency')}']`,
  );
  expect(script).toContain(
    `'http_req_duration{op:create}': ['${latency('url-shortener-slo-create-latency')}']`,
  );
  expect(script).toContain(
    `http_req_failed: ['rate<${group('url-shortener-slo-availability').budget}']`,
  );
});
