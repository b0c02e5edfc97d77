// One URL shortener process: `node main.ts <role>...`, or every role when none is named.
// Tracing starts before the instrumented libraries load, so the rest is imported afterwards.
import { ConfigError } from '@platform/kit/config';
import { chooseRoles, fail, startProcessTracing, stopOnSignals } from '@platform/kit/entry-point';

const tracing = await startProcessTracing('url-shortener', process.env);
const { readConfig } = await import('./config.ts');
const { ROLES, runUrlShortener } = await import('./service.ts');

const roles = chooseRoles(process.argv.slice(2), ROLES);
const running = await runUrlShortener(readConfig(), roles).catch((error: unknown) => {
  // A busy port or a configuration the stores refuse is the user's to fix: one line.
  const own =
    error instanceof ConfigError || (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
  if (!own) throw error;
  fail(`cannot start: ${(error as Error).message}`, 1);
});
stopOnSignals(running, tracing);
