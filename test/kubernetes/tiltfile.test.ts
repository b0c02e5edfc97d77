import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SYSTEMS } from '../../services/platform/src/systems.ts';
import { tool } from './helm.ts';

/**
 * The Tiltfile, run by tiltfile-check in go.starlark.net (the interpreter
 * Tilt embeds) with Tilt's builtins recorded. No cluster or Tilt is needed to
 * catch a syntax error, a misspelt resource dependency or a missing file.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

interface Call {
  builtin: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
}

async function declared(...systems: string[]): Promise<Call[]> {
  const args = [join(ROOT, 'Tiltfile'), ...(systems.length ? ['--', ...systems] : [])];
  const { stdout } = await run(tool('TILTFILE_CHECK_BIN'), args, { cwd: ROOT });
  return (JSON.parse(stdout) as { calls: Call[] }).calls;
}

const resources = (calls: Call[]) =>
  calls
    .filter((c) =>
      ['helm_resource', 'local_resource', 'helm_repo', 'k8s_resource'].includes(c.builtin),
    )
    .map((c) => String(c.kwargs.new_name ?? c.kwargs.resource_name ?? c.args[0]));

describe('Tiltfile', () => {
  it('depends only on resources and images it declares', async () => {
    const calls = await declared();
    const names = new Set(resources(calls));
    const images = new Set(calls.filter((c) => c.builtin === 'docker_build').map((c) => c.args[0]));
    const dangling = calls.flatMap((c) => [
      ...((c.kwargs.resource_deps as string[] | undefined) ?? []).filter((d) => !names.has(d)),
      ...((c.kwargs.image_deps as string[] | undefined) ?? []).filter((d) => !images.has(d)),
    ]);
    expect(dangling).toEqual([]);
    expect(resources(calls).length).toBe(names.size);
  });

  it('points at files that exist: manifests, charts, values, Dockerfile, load tests', async () => {
    const calls = await declared();
    const paths = calls.flatMap((c) => {
      const flags = (c.kwargs.flags as string[] | undefined) ?? [];
      return [
        ...(c.builtin === 'k8s_yaml' ? [String(c.args[0])] : []),
        ...(c.builtin === 'helm_resource' && String(c.args[1]).startsWith('charts/')
          ? [String(c.args[1])]
          : []),
        ...flags.filter((f) => f.startsWith('--values=')).map((f) => f.slice('--values='.length)),
        ...(c.builtin === 'docker_build' ? [String(c.kwargs.dockerfile)] : []),
        ...[...String(c.kwargs.cmd ?? '').matchAll(/(\S+\.yaml)\b/g)].map((m) => m[1]!),
      ];
    });
    expect(paths.length).toBeGreaterThan(5);
    expect(paths.filter((p) => !existsSync(join(ROOT, p)))).toEqual([]);
  });

  // Every system the platform runs that has a chart, with the port the launcher gives it.
  const charted = SYSTEMS.filter((s) => existsSync(join(ROOT, 'charts', s.name, 'Chart.yaml')));

  // The Service a system's clients reach, when it is not "<system>-api".
  const PUBLIC_SERVICE: Record<string, string> = { chat: 'chat-handler' };

  it('knows every system that has a chart', () => {
    expect(charted.map((s) => s.name)).toEqual(
      expect.arrayContaining(['url-shortener', 'hotel-booking', 'navigation', 'chat']),
    );
  });

  it.each(charted.map((s) => [s.name, s.port] as const))(
    'runs %s when named after --, live-updated, forwarded on %d and linked',
    async (name, port) => {
      const calls = await declared(name);
      // The platform's own operators a system needs are charts too, in the operators group.
      const systems = calls.filter(
        (c) =>
          c.builtin === 'helm_resource' &&
          String(c.args[1]).startsWith('charts/') &&
          !(c.kwargs.labels as string[] | undefined)?.includes('operators'),
      );
      // The system and the infrastructure, no other system.
      expect(systems.map((c) => c.args[0]).sort()).toEqual(['infra', name].sort());
      const system = systems.find((c) => c.args[0] === name);
      expect(system?.kwargs).toMatchObject({ image_deps: ['platform'] });
      // Our own operators a system needs (chat's handler rebalancer) are installed before it.
      const ownOperators = calls
        .filter(
          (c) =>
            c.builtin === 'helm_resource' &&
            String(c.args[1]).startsWith('charts/') &&
            (c.kwargs.labels as string[] | undefined)?.includes('operators'),
        )
        .map((c) => String(c.args[0]));
      if (name === 'chat') expect(ownOperators).toEqual(['handler-rebalancer']);
      for (const operator of ownOperators) {
        expect(system?.kwargs.resource_deps).toContain(operator);
      }
      const forward = calls.find((c) => c.args[0] === `${name}-port-forward`);
      expect(forward?.kwargs.serve_cmd).toBe(
        `kubectl -n platform port-forward svc/${PUBLIC_SERVICE[name] ?? `${name}-api`} ${port}:${port}`,
      );
      expect(system?.kwargs.flags).toEqual(
        expect.arrayContaining([
          `--values=charts/${name}/values-lite.yaml`,
          '--set=dev.liveUpdate=true',
        ]),
      );
      const dashboard = JSON.parse(
        readFileSync(join(ROOT, `charts/${name}/dashboards/${name}.json`), 'utf8'),
      ) as { uid: string };
      expect(JSON.stringify(system?.kwargs.links)).toContain(`/d/${dashboard.uid}`);
      const load = calls.find((c) => c.args[0] === `load-${name}`);
      expect(load?.kwargs.cmd).toBe(`npm run load -- ${name} --base-url http://localhost:${port}`);
      const build = calls.find((c) => c.builtin === 'docker_build');
      expect(JSON.stringify(build?.kwargs.live_update)).toContain('/app/services');
    },
  );

  it('sends the image build every path the Dockerfile copies', async () => {
    // Tilt's `only` narrows the build context: a COPY of anything outside it fails in tilt up.
    const build = (await declared()).find((c) => c.builtin === 'docker_build')!;
    const only = build.kwargs.only as string[];
    const dockerfile = readFileSync(join(ROOT, String(build.kwargs.dockerfile)), 'utf8');
    const sources = dockerfile
      .split('\n')
      .filter((line) => /^COPY\s/.test(line) && !/--from=/.test(line))
      .flatMap((line) => line.trim().split(/\s+/).slice(1, -1))
      .filter((word) => !word.startsWith('--'));
    expect(sources.length).toBeGreaterThan(3);
    const outside = sources.filter(
      (source) => !only.some((path) => source === path || source.startsWith(`${path}/`)),
    );
    expect(outside).toEqual([]);
  });

  it('refuses a system it does not know, naming the known ones', async () => {
    await expect(declared('url-shortner')).rejects.toThrow(
      /unknown system\(s\) url-shortner; known: chat, hotel-booking, navigation, url-shortener/,
    );
  });

  it('creates the namespaces before anything is installed into them', async () => {
    const calls = await declared();
    const grouped = calls.find(
      (c) => c.builtin === 'k8s_resource' && c.kwargs.new_name === 'namespaces',
    );
    const manifest = readFileSync(join(ROOT, 'manifests/namespaces.yaml'), 'utf8');
    const names = [...manifest.matchAll(/^ {2}name: (\S+)$/gm)].map((m) => `${m[1]}:namespace`);
    expect(grouped?.kwargs.objects).toEqual(names);
    for (const call of calls.filter((c) => c.builtin === 'helm_resource')) {
      const namespace = call.kwargs.namespace as string | undefined;
      if (!namespace || namespace === 'kube-system') continue;
      const deps = new Set<string>();
      const walk = (name: string) => {
        const found = calls.find(
          (c) => (c.kwargs.new_name ?? c.kwargs.resource_name ?? c.args[0]) === name,
        );
        for (const dep of (found?.kwargs.resource_deps as string[] | undefined) ?? []) {
          if (deps.has(dep)) continue;
          deps.add(dep);
          walk(dep);
        }
      };
      walk(String(call.args[0]));
      expect([call.args[0], [...deps].includes('namespaces')]).toEqual([call.args[0], true]);
    }
  });

  it('installs the operators at the versions docs/kubernetes.md gives', async () => {
    const calls = await declared();
    const doc = readFileSync(join(ROOT, 'docs/kubernetes.md'), 'utf8');
    const versions = calls
      .filter((c) => c.builtin === 'helm_resource')
      .flatMap((c) =>
        ((c.kwargs.flags as string[]) ?? []).filter((f) => f.startsWith('--version=')),
      )
      .map((f) => f.slice('--version='.length));
    expect(versions.length).toBeGreaterThanOrEqual(5);
    for (const version of versions) expect(doc).toContain(version);
  });
});
