// The navigation API in one process: routes, ETAs, places, traffic and WebSocket sessions.
// Tracing starts before the instrumented libraries load, so the rest is imported afterwards.
import { chooseRoles, fail, startProcessTracing, stopOnSignals } from '@platform/kit/entry-point';

const tracing = await startProcessTracing('navigation', process.env);
const { readConfig } = await import('./config.ts');
const { runNavigation } = await import('./service.ts');

// The only role is the API; `api` is accepted so the launcher can name it like the others.
chooseRoles(process.argv.slice(2), ['api']);

const running = await runNavigation(readConfig()).catch((error: unknown) => {
  if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
  fail(`cannot start: ${(error as Error).message}`, 1);
});
stopOnSignals(running, tracing);
