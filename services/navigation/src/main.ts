// The navigation API in one process: routes, ETAs, places, traffic and WebSocket sessions.
// Tracing starts before the instrumented libraries load, so the rest is imported afterwards.
import { ConfigError, parseConfig, telemetrySchema } from '@platform/kit/config';
import { startTracing } from '@platform/kit/tracing';

function fail(message: string, code: number): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

let tracing: Awaited<ReturnType<typeof startTracing>> | undefined;
try {
  const { OTEL_EXPORTER_OTLP_ENDPOINT } = parseConfig(telemetrySchema, process.env);
  tracing = await startTracing('navigation', OTEL_EXPORTER_OTLP_ENDPOINT);
} catch (error) {
  if (error instanceof ConfigError) fail(error.message, 1);
  throw error;
}

const { readConfig } = await import('./config.ts');
const { runNavigation } = await import('./service.ts');

// The only role is the API; `api` is accepted so the launcher can name it like the others.
const strangers = process.argv.slice(2).filter((role) => role !== 'api');
if (strangers.length > 0) fail(`unknown role ${strangers.join(', ')}: expected api`, 2);

const running = await runNavigation(readConfig()).catch((error: unknown) => {
  if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
  fail(`cannot start: ${(error as Error).message}`, 1);
});

/** Exits once the service has stopped and the last spans are sent. */
function exitAfterTracing(code: number): void {
  void (tracing?.shutdown() ?? Promise.resolve()).finally(() => process.exit(code));
}
running.lifecycle.handleSignals(exitAfterTracing);

if (process.connected) {
  process.once('disconnect', () => {
    running.logger.info('launcher gone, stopping');
    running.lifecycle.shutdown().then(
      () => exitAfterTracing(0),
      () => exitAfterTracing(1),
    );
  });
}
