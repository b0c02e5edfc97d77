import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

let toolsEnv: string | undefined;

/**
 * The path of a tool scripts/tools.sh provides (K6_BIN, PROMTOOL_BIN,
 * PROMETHEUS_BIN, VTEXPLAIN_BIN): the variable when set, else what `scripts/tools.sh env`
 * prints. A missing tool fails the test with the command that provides it.
 */
export function toolPath(
  variable: 'K6_BIN' | 'PROMTOOL_BIN' | 'PROMETHEUS_BIN' | 'VTEXPLAIN_BIN',
): string {
  const set = process.env[variable];
  if (set) return set;

  if (toolsEnv === undefined) {
    try {
      toolsEnv = execFileSync('bash', [`${ROOT}scripts/tools.sh`, 'env'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (error) {
      toolsEnv = '';
      process.stderr.write(`scripts/tools.sh env failed: ${(error as Error).message}\n`);
    }
  }
  const path = new RegExp(`\\b${variable}=(\\S+)`).exec(toolsEnv)?.[1];
  if (!path || path === "''") {
    throw new Error(
      `${variable} is not set: build the tools with "scripts/tools.sh install" and load ` +
        `them with 'eval "$(scripts/tools.sh env)"', or run "npm test"`,
    );
  }
  return path;
}
