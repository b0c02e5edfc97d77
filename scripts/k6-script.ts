// A load test as the k6 operator's TestRun runs it. Its ConfigMap carries one file, so the
// script's import of load-tests/shared.js is replaced by that file's code.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const SHARED_IMPORT = /^import \{[^}]*\} from '\.\.\/shared\.js';$/m;

/** load-tests/<system>/script.js with load-tests/shared.js written in place of its import. */
export function clusterScript(root: string, system: string): string {
  const script = readFileSync(join(root, 'load-tests', system, 'script.js'), 'utf8');
  const local = /^import .* from '\.{1,2}\/(?!shared\.js').*$/m.exec(script);
  if (local) throw new Error(`load-tests/${system}/script.js: only ../shared.js can be inlined`);
  if (!SHARED_IMPORT.test(script)) return script;

  const shared = readFileSync(join(root, 'load-tests', 'shared.js'), 'utf8')
    .replace(/^\/\* global __ENV \*\/\n/, '')
    .replace(/^export (?=function|const)/gm, '')
    .trimEnd();
  const inlined = [
    '// ---- load-tests/shared.js, written here by npm run load -- <system> --write-testrun ----',
    shared,
    '// ---- end of load-tests/shared.js ----',
  ].join('\n');
  return script.replace(SHARED_IMPORT, () => inlined);
}
