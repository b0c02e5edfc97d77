import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { clusterScript } from '../../scripts/k6-script.ts';
import { ROOT } from '../observability/tools.ts';

/**
 * Each system's load test as the cluster runs it (the k6 operator's TestRun
 * with the script in a ConfigMap) is the script in load-tests/<system>/, and
 * its thresholds are the SLOs of the system chart's rules.
 */
const systems = readdirSync(join(ROOT, 'load-tests'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

/**
 * Which rule group holds the SLO behind each k6 threshold: a latency key is a tag of
 * http_req_duration ("op:route"), or the name of a Trend of the script's own (chat measures
 * send-to-deliver on the recipient's side).
 */
const SLOS: Record<
  string,
  {
    latency: Record<string, string>;
    availability: string;
    /** A Rate of the script's own the availability budget bounds too (failed deliveries). */
    failures?: string;
  }
> = {
  'url-shortener': {
    latency: {
      'op:redirect': 'url-shortener-slo-redirect-latency',
      'op:create': 'url-shortener-slo-create-latency',
    },
    availability: 'url-shortener-slo-availability',
  },
  'hotel-booking': {
    latency: {
      'op:book': 'hotel-booking-slo-booking-latency',
      'op:search': 'hotel-booking-slo-search-latency',
    },
    availability: 'hotel-booking-slo-availability',
  },
  navigation: {
    latency: { 'op:route': 'navigation-slo-route-latency' },
    availability: 'navigation-slo-availability',
  },
  chat: {
    latency: { chat_send_to_deliver: 'chat-slo-delivery-latency' },
    availability: 'chat-slo-delivery-errors',
    failures: 'chat_delivery_failed',
  },
};

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  spec?: { script?: { configMap?: { name: string; file?: string } } };
}

interface RuleFile {
  groups: { name: string; rules: { record?: string; alert?: string; expr: string }[] }[];
}

it('finds the load test of every system', () => {
  expect(systems).toEqual(
    expect.arrayContaining(['url-shortener', 'hotel-booking', 'navigation', 'chat']),
  );
});

describe.each(systems)('load-tests/%s', (system) => {
  const dir = join(ROOT, 'load-tests', system);
  const script = readFileSync(join(dir, 'script.js'), 'utf8');

  it('the TestRun runs the script in load-tests/ from its ConfigMap', () => {
    const manifests = parseAllDocuments(readFileSync(join(dir, 'testrun.yaml'), 'utf8')).map(
      (document) => document.toJS() as Manifest,
    );
    const testRun = manifests.find(
      (m) => m.apiVersion === 'k6.io/v1alpha1' && m.kind === 'TestRun',
    );
    const source = testRun?.spec?.script?.configMap;
    const configMap = manifests.find(
      (m) => m.kind === 'ConfigMap' && m.metadata.name === source?.name,
    );

    expect(source).toEqual({ name: expect.any(String), file: 'script.js' });
    expect(configMap).toBeDefined();
    if (configMap!.data?.['script.js'] !== clusterScript(ROOT, system)) {
      throw new Error(
        `the ConfigMap in load-tests/${system}/testrun.yaml holds another script.js than ` +
          `load-tests/${system}/script.js with load-tests/shared.js: ` +
          `npm run load -- ${system} --write-testrun`,
      );
    }
  });

  it("the script's thresholds are the SLOs of the chart's rules", () => {
    const slos = SLOS[system];
    if (!slos) throw new Error(`no SLOs listed for ${system} in test/load/testrun.test.ts`);
    const rules = parse(
      readFileSync(join(ROOT, `charts/${system}/rules/slo.rules.yaml`), 'utf8'),
    ) as RuleFile;
    const group = (name: string) => {
      const found = rules.groups.find((g) => g.name === name);
      if (!found) throw new Error(`no rule group ${name}`);
      const recorded = found.rules.find((r) => r.record?.endsWith(':ratio_rate5m'))!.expr;
      const fastBurn = found.rules.find((r) => r.alert?.endsWith('FastBurn'))!.expr;
      return {
        seconds: Number(/le="([\d.]+)"/.exec(recorded)?.[1]),
        budget: Number(/\(14\.4 \* ([\d.]+)\)/.exec(fastBurn)?.[1]),
      };
    };

    for (const [tag, name] of Object.entries(slos.latency)) {
      const { seconds, budget } = group(name);
      const threshold = `p(${Math.round(100 * (1 - budget))})<${Math.round(seconds * 1000)}`;
      if (tag.includes(':')) {
        expect(script).toContain(`'http_req_duration{${tag}}': ['${threshold}']`);
      } else {
        expect(script).toContain(`${tag}: ['${threshold}']`);
      }
    }
    expect(script).toContain(`http_req_failed: ['rate<${group(slos.availability).budget}']`);
    if (slos.failures) {
      expect(script).toContain(`${slos.failures}: ['rate<${group(slos.availability).budget}']`);
    }
    // Every threshold of the script is one of these.
    const declared = [...script.matchAll(/'http_req_duration\{([^}]+)\}'/g)].map((m) => m[1]);
    expect(declared.sort()).toEqual(
      Object.keys(slos.latency)
        .filter((tag) => tag.includes(':'))
        .sort(),
    );
  });
});
