import {
  containerOf,
  describeSystemChart,
  named,
  renderedChart,
  type NetworkPolicy,
} from './system-chart.ts';
import type { Rendered } from './helm.ts';

/**
 * The URL shortener chart: what every system chart must render
 * (system-chart.ts), then what is the shortener's own: the API finds the token
 * services, the code secret, and who may reach the token services.
 */
const CHART = 'url-shortener';

describeSystemChart({
  chart: CHART,
  roles: {
    api: { portVariable: 'PORT', port: 8081 },
    'token-service': { portVariable: 'TOKEN_SERVICE_PORT', port: 9101 },
    'click-aggregator': { portVariable: 'AGGREGATOR_PORT', port: 9103 },
  },
  autoscaled: ['api'],
  secretKeys: ['MYSQL_URL', 'CODE_SECRET', 'CASSANDRA_USERNAME', 'CASSANDRA_PASSWORD'],
  chartEnv: ['PORT', 'TOKEN_SERVICE_PORT', 'AGGREGATOR_PORT', 'TOKEN_SERVICE_URLS', 'MYSQL_URL'],
});

const rendered = renderedChart(CHART);

describe('url-shortener chart', () => {
  it('points the API at the token services and generates a long code secret', () => {
    const objects = rendered.defaults();
    const env = containerOf(objects, 'url-shortener-api').env;
    const service = named(objects, 'Service', 'url-shortener-token-service') as Rendered & {
      spec: { ports: { port: number }[] };
    };
    expect(env).toContainEqual({
      name: 'TOKEN_SERVICE_URLS',
      value: `http://url-shortener-token-service:${service.spec.ports[0]!.port}`,
    });
    const secret = named(objects, 'Secret', 'url-shortener-secrets') as Rendered & {
      stringData: Record<string, string>;
    };
    expect(secret.stringData.CODE_SECRET!.length).toBeGreaterThanOrEqual(32);
  });

  it('lets only the API reach the token services; the API is public', () => {
    const objects = rendered.defaults();
    const token = named(objects, 'NetworkPolicy', 'url-shortener-token-service') as NetworkPolicy;
    const peers = token.spec.ingress.flatMap((rule) => rule.from ?? []);
    const podPeers = peers.filter((p) => p.podSelector).map((p) => p.podSelector!.matchLabels);
    expect(podPeers).toEqual([expect.objectContaining({ 'app.kubernetes.io/component': 'api' })]);
    const api = named(objects, 'NetworkPolicy', 'url-shortener-api') as NetworkPolicy;
    expect(api.spec.ingress.every((rule) => rule.from === undefined)).toBe(true);
  });

  it('sizes the lite profile to one token service', () => {
    const token = named(
      rendered.lite(),
      'Deployment',
      'url-shortener-token-service',
    ) as Rendered & {
      spec: { replicas: number };
    };
    expect(token.spec.replicas).toBe(1);
  });
});
