import { execFile, spawn } from 'node:child_process';
import {
  cpSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { freePort } from '@platform/kit/testing';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * The platform's one image, checked without a container runtime: the
 * Dockerfile passes a maintained linter, and its recipe (build context after
 * .dockerignore, production dependencies only) is replayed in a directory to
 * show the services start from what the image would hold.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LINTER = join(ROOT, 'node_modules/.bin/dockerfile-utils');
const run = promisify(execFile);
// A CommonJS module whose type declarations claim an ES default export.
const dockerignore = createRequire(import.meta.url)(
  '@balena/dockerignore',
) as typeof import('@balena/dockerignore').default;
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

/** The linter's report for a Dockerfile: empty when it finds nothing. */
async function lint(path: string): Promise<string> {
  try {
    const { stdout, stderr } = await run(LINTER, ['lint', path]);
    return (stdout + stderr).trim();
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    return `${stdout}${stderr}`.trim() || String(error);
  }
}

/** Files of the repository that `docker build .` would send, after .dockerignore. */
function buildContext(): string[] {
  const ignore = dockerignore({ ignorecase: false }).add(
    readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n'),
  );
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      const rel = relative(ROOT, path);
      if (['.git', 'node_modules', '.data'].includes(entry)) continue;
      if (statSync(path).isDirectory()) walk(path);
      else if (!ignore.ignores(rel)) files.push(rel);
    }
  };
  walk(ROOT);
  return files.sort();
}

describe('Dockerfile', () => {
  it('passes dockerfile-utils with no error or warning', async () => {
    expect(await lint(join(ROOT, 'Dockerfile'))).toBe('');
  });

  it('is linted by a linter that does report problems', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dockerfile-'));
    const bad = join(dir, 'Dockerfile');
    writeFileSync(bad, dockerfile.replace('EXPOSE 8081', 'EXPOSE http').replace(/^USER/m, 'USR'));
    const report = await lint(bad);
    expect(report).toMatch(/Invalid containerPort: http/);
    expect(report).toMatch(/Unknown instruction: USR/);
    rmSync(dir, { recursive: true });
  });

  it('builds from Node 24 slim, runs as a non-root user and keeps dev dependencies out', () => {
    const images = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
    expect(images.length).toBeGreaterThanOrEqual(2);
    const base = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1];
    expect(base).toMatch(/^node:24\.\d+\.\d+-\w+-slim$/);
    for (const image of images) expect(image).toBe('${NODE_IMAGE}');
    const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    const user = /^USER\s+(\S+)/m.exec(finalStage)?.[1];
    expect(user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    // The registry settings (and any token they may ever hold) stay in the build stage.
    expect(dockerfile).toMatch(/&& rm \.npmrc$/m);
    expect(/^ENV[^]*?DATA_DIR=\/tmp\//m.test(finalStage)).toBe(true);
    expect(finalStage).toMatch(/^ENTRYPOINT \["node"\]$/m);
  });

  it('sends the sources and manifests to the build, but no tests, benchmarks or local data', () => {
    const context = buildContext();
    expect(context).toEqual(
      expect.arrayContaining([
        'package.json',
        'package-lock.json',
        'services/url-shortener/src/main.ts',
        'services/kit/package.json',
        'operators/handler-rebalancer/src/main.ts',
        'operators/handler-rebalancer/package.json',
        // Navigation loads its map from the image: there is nothing to download at start.
        'data/osm/andorra.osm.pbf',
        'data/osm/README.md',
      ]),
    );
    const leaks = context.filter((f) =>
      /(\.test\.ts$|\/test\/|\/bench\/|^charts\/|^docs\/|\/testing\/|^\.git)/.test(f),
    );
    expect(leaks).toEqual([]);
    // Every package manifest the Dockerfile copies exists and no workspace is left out.
    const copied = [
      ...dockerfile.matchAll(/^COPY ((?:services|operators)\/[\w-]+\/package\.json)/gm),
    ].map((m) => m[1]);
    const workspaces = ['services', 'operators'].flatMap((dir) =>
      readdirSync(join(ROOT, dir)).map((s) => `${dir}/${s}/package.json`),
    );
    expect(copied.sort()).toEqual(workspaces.sort());
  });

  it('starts the URL shortener from production dependencies and the context alone', async () => {
    const image = mkdtempSync(join(tmpdir(), 'image-'));
    for (const file of buildContext())
      cpSync(join(ROOT, file), join(image, file), { recursive: true });
    await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--offline', '--no-audit'], {
      cwd: image,
    });
    expect(() => statSync(join(image, 'node_modules/jest'))).toThrow();
    expect(() => statSync(join(image, 'node_modules/typescript'))).toThrow();

    // The operator's imports resolve from production dependencies: it gets as far as its config.
    const operator = await run(process.execPath, ['operators/handler-rebalancer/src/main.ts'], {
      cwd: image,
      env: { PATH: dirname(process.execPath), LEASE_RENEW_SECONDS: '99', NODE_ENV: 'production' },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code?: number; stderr?: string }) => error,
    );
    expect(operator).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^invalid configuration: LEASE_RENEW_SECONDS/),
    });

    const port = await freePort();
    // The chart's args for the API, in a process that sees nothing of the repository.
    const child = spawn(process.execPath, ['services/url-shortener/src/main.ts', 'api'], {
      cwd: image,
      env: {
        PATH: dirname(process.execPath),
        PORT: String(port),
        DATA_DIR: join(image, '.data'),
        LOG_LEVEL: 'warn',
        NODE_ENV: 'production',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      const deadline = Date.now() + 30_000;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${stderr}`);
        const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
          (r) => r.ok,
          () => false,
        );
        if (ok) break;
        if (Date.now() > deadline) throw new Error(`not ready in 30 s: ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const created = await fetch(`http://127.0.0.1:${port}/urls`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ url: 'https://example.com/from-the-image' }),
      });
      expect(created.status).toBe(201);
      const { code } = (await created.json()) as { code: string };
      const redirect = await fetch(`http://127.0.0.1:${port}/${code}`, { redirect: 'manual' });
      expect(redirect.headers.get('location')).toBe('https://example.com/from-the-image');
    } finally {
      child.kill('SIGTERM');
      rmSync(image, { recursive: true, force: true });
    }
  }, 180_000);
});
