import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';

export const CHARTS = fileURLToPath(new URL('../../charts/', import.meta.url));

/** A tool provisioned by scripts/tools.sh, found through the variable its env prints. */
export function tool(variable: string): string {
  const path = process.env[variable];
  if (!path || !existsSync(path)) {
    throw new Error(
      `${variable} is not set: run scripts/tools.sh install, then eval "$(scripts/tools.sh env)"`,
    );
  }
  return path;
}

export interface Rendered {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  /** The template file the object came from, as helm's "# Source:" comment names it. */
  source: string;
  [field: string]: unknown;
}

const run = promisify(execFile);

export async function helm(args: string[]): Promise<string> {
  const { stdout } = await run(tool('HELM_BIN'), args, { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/**
 * Vendors a chart's dependencies (the library chart) when it has any. Test
 * files run in parallel workers, so one builds at a time under a lock
 * directory (mkdir is atomic); the others wait for it.
 */
export async function buildDependencies(chart: string): Promise<void> {
  if (!/^dependencies:/m.test(readFileSync(join(CHARTS, chart, 'Chart.yaml'), 'utf8'))) return;
  const lock = join(CHARTS, chart, '.dependency-build.lock');
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // A lock left by a killed run is older than any build takes.
      if (Date.now() - statSync(lock).mtimeMs > 120_000) rmSync(lock, { recursive: true });
      if (Date.now() > deadline) throw new Error(`${lock} held for a minute`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  try {
    await helm(['dependency', 'build', join(CHARTS, chart)]);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * `helm template` of a chart with extra values files (relative to the chart, or
 * absolute) and --set pairs, parsed.
 */
export async function render(
  chart: string,
  options: {
    valuesFiles?: string[];
    set?: Record<string, string>;
    namespace?: string;
    release?: string;
  } = {},
): Promise<Rendered[]> {
  const release = options.release ?? chart;
  const namespace = options.namespace ?? 'platform';
  const args = ['template', release, join(CHARTS, chart), '--namespace', namespace];
  for (const file of options.valuesFiles ?? []) {
    args.push('--values', isAbsolute(file) ? file : join(CHARTS, chart, file));
  }
  for (const [key, value] of Object.entries(options.set ?? {}))
    args.push('--set', `${key}=${value}`);
  const out = await helm(args);
  // helm starts each object with "---" and a "# Source: <chart>/templates/<file>" line.
  return out.split(/^---$/m).flatMap((text) => {
    const object = parse(text) as Rendered | null;
    if (!object) return [];
    const source = /^# Source: (\S+)/m.exec(text)?.[1] ?? '';
    return [{ ...object, source }];
  });
}

/** The values files of a chart: values.yaml first, then every values-*.yaml profile. */
export function valuesFiles(chart: string): string[] {
  const extra = readdirSync(join(CHARTS, chart)).filter((f) => /^values-.+\.ya?ml$/.test(f));
  return ['values.yaml', ...extra.sort()];
}
