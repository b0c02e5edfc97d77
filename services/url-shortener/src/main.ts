// One URL shortener process: `node main.ts <role>...`, or every role when none is named.
// Tracing starts before the instrumented libraries load, so the rest is imported afterwards.
import { ConfigError, parseConfig, telemetrySchema } from '@platform/kit/config';
import { startTracing } from '@platform/kit/tracing';

const requested = process.argv.slice(2);
let tracing: Awaited<ReturnType<typeof startTracing>>;
try {
  const telemetry = parseConfig(telemetrySchema, process.env);
  tracing = await startTracing('url-shortener', telemetry.OTEL_EXPORTER_OTLP_ENDPOINT);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}

const { readConfig } = await import('./config.ts');
const { ROLES, runUrlShortener } = await import('./service.ts');

const unknown = requested.filter((role) => !(ROLES as readonly string[]).includes(role));
if (unknown.length > 0) {
  process.stderr.write(`unknown role ${unknown.join(', ')}: expected ${ROLES.join(', ')}\n`);
  process.exit(2);
}
const roles = requested.length > 0 ? (requested as (typeof ROLES)[number][]) : [...ROLES];
const running = await runUrlShortener(readConfig(), roles).catch((error: unknown) => {
  // A busy port or a configuration the stores refuse is the user's to fix: one line.
  const own =
    error instanceof ConfigError || (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
  if (!own) throw error;
  process.stderr.write(`cannot start: ${(error as Error).message}\n`);
  process.exit(1);
});
// Spans are flushed last, after every service has stopped.
const exit = (code: number) => {
  void (tracing?.shutdown() ?? Promise.resolve()).finally(() => process.exit(code));
};
running.lifecycle.handleSignals(exit);

// Started by the platform's supervisor: when it goes away, so does this process.
if (process.connected) {
  process.on('disconnect', () => {
    running.logger.info('supervisor gone, shutting down');
    running.lifecycle.shutdown().then(
      () => exit(0),
      () => exit(1),
    );
  });
}
