import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDependencies, CHARTS, render, type Rendered } from './helm.ts';

/**
 * The handler rebalancer's chart, rendered by the real helm: the operator's
 * Deployment, the least privilege it runs with, and the CRD it ships. The
 * server-side checks of every rendered object are in dry-run.test.ts; running
 * the operator on nothing but these RBAC rules is in the operator's own tests.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHART = 'handler-rebalancer';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}
type RoleObject = Rendered & { rules: Rule[] };
interface Container {
  args: string[];
  env: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  securityContext: Record<string, unknown>;
}
type DeploymentObject = Rendered & {
  spec: {
    replicas: number;
    template: {
      spec: {
        serviceAccountName: string;
        automountServiceAccountToken: boolean;
        containers: Container[];
      };
    };
  };
};

/** Which verbs the rules grant on group/resource. */
function verbs(rules: Rule[], group: string, resource: string): string[] {
  return [
    ...new Set(
      rules
        .filter((r) => r.apiGroups.includes(group) && r.resources.includes(resource))
        .flatMap((r) => r.verbs),
    ),
  ].sort();
}

let defaults: Rendered[];
let clusterWide: Rendered[];

beforeAll(async () => {
  await buildDependencies(CHART);
  defaults = await render(CHART, { release: 'chat' });
  clusterWide = await render(CHART, { release: 'chat', set: { watchAllNamespaces: 'true' } });
}, 60_000);

const only = <T extends Rendered>(objects: Rendered[], kind: string) => {
  const found = objects.filter((o) => o.kind === kind);
  expect(found).toHaveLength(1);
  return found[0] as T;
};

describe('handler-rebalancer chart', () => {
  it('runs the operator under its own service account, with the pod name as its identity', () => {
    const deployment = only<DeploymentObject>(defaults, 'Deployment');
    const pod = deployment.spec.template.spec;
    expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
    expect(pod.serviceAccountName).toBe(only(defaults, 'ServiceAccount').metadata.name);
    expect(pod.automountServiceAccountToken).toBe(true);
    const container = pod.containers[0]!;
    expect(container.args).toEqual(['operators/handler-rebalancer/src/main.ts']);
    const env = Object.fromEntries(container.env.map((e) => [e.name, e]));
    expect(env.POD_NAME?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
    expect(env.WATCH_NAMESPACE?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.namespace');
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
  });

  it('grants what the operator uses, and nothing more, in its own namespace', () => {
    const role = only<RoleObject>(defaults, 'Role');
    expect(verbs(role.rules, '', 'pods')).toEqual(['get', 'list', 'watch']);
    expect(verbs(role.rules, 'chat.platform.dev', 'handlerpools')).toEqual([
      'get',
      'list',
      'watch',
    ]);
    expect(verbs(role.rules, 'chat.platform.dev', 'handlerpools/status')).toEqual([
      'get',
      'patch',
      'update',
    ]);
    expect(verbs(role.rules, '', 'events')).toEqual(['create', 'patch']);
    expect(verbs(role.rules, 'coordination.k8s.io', 'leases')).toEqual(['create', 'get', 'update']);
    expect(role.rules.flatMap((r) => r.verbs)).not.toContain('delete');
    expect(role.rules.flatMap((r) => r.resources)).not.toContain('*');
    expect(defaults.filter((o) => o.kind.startsWith('Cluster'))).toEqual([]);
  });

  it('moves the watch rules to a ClusterRole when it watches every namespace', () => {
    const clusterRole = only<RoleObject>(clusterWide, 'ClusterRole');
    expect(verbs(clusterRole.rules, '', 'pods')).toEqual(['get', 'list', 'watch']);
    const role = only<RoleObject>(clusterWide, 'Role');
    expect(role.rules.flatMap((r) => r.resources)).toEqual(['leases', 'leases']);
    const binding = only<Rendered & { roleRef: { name: string } }>(
      clusterWide,
      'ClusterRoleBinding',
    );
    expect(binding.roleRef.name).toBe(clusterRole.metadata.name);
    const deployment = only<DeploymentObject>(clusterWide, 'Deployment');
    const names = deployment.spec.template.spec.containers[0]!.env.map((e) => e.name);
    expect(names).not.toContain('WATCH_NAMESPACE');
  });

  it('ships the same CRD as manifests/crds', () => {
    const file = 'handlerpools.chat.platform.dev.yaml';
    expect(readFileSync(join(CHARTS, CHART, 'crds', file), 'utf8')).toBe(
      readFileSync(join(ROOT, 'manifests', 'crds', file), 'utf8'),
    );
  });
});
