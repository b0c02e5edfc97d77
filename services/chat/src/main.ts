// `node main.ts [api] [handler]` (or `api,handler`): the named roles of the
// chat system in this process, both when none is named. OpenTelemetry must
// patch express, ioredis, mysql2 and cassandra-driver before they load, so everything else is
// imported only once tracing runs.
import { ConfigError, parseConfig, telemetrySchema } from '@platform/kit/config';
import { startTracing } from '@platform/kit/tracing';

function fail(message: string, code: number): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

let tracing: Awaited<ReturnType<typeof startTracing>> | undefined;
try {
  const { OTEL_EXPORTER_OTLP_ENDPOINT } = parseConfig(telemetrySchema, process.env);
  tracing = await startTracing('chat', OTEL_EXPORTER_OTLP_ENDPOINT);
} catch (error) {
  if (error instanceof ConfigError) fail(error.message, 1);
  throw error;
}

const { readConfig } = await import('./config.ts');
const { ROLES, runChat } = await import('./service.ts');
type Role = (typeof ROLES)[number];

const isRole = (name: string): name is Role => (ROLES as readonly string[]).includes(name);
const named = process.argv.slice(2).flatMap((arg) => arg.split(','));
const strangers = named.filter((name) => !isRole(name));
if (strangers.length > 0)
  fail(`unknown role ${strangers.join(', ')}: expected ${ROLES.join(', ')}`, 2);

const running = await runChat(readConfig(), named.length > 0 ? named.filter(isRole) : [...ROLES]);

/** Exits once the services have stopped and the last spans are sent. */
function exitAfterTracing(code: number): void {
  void (tracing?.shutdown() ?? Promise.resolve()).finally(() => process.exit(code));
}
running.lifecycle.handleSignals(exitAfterTracing);

// Under the launcher an IPC channel is open; losing it means the launcher is gone.
if (process.connected) {
  process.once('disconnect', () => {
    running.logger.info('launcher gone, stopping');
    running.lifecycle.shutdown().then(
      () => exitAfterTracing(0),
      () => exitAfterTracing(1),
    );
  });
}
