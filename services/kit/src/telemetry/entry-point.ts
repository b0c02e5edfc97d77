// What every service's `main.ts` does around its own start: tracing first (before the libraries
// it instruments load), roles from the command line, and stopping on signals or when the
// launcher that started the process goes away. Imports nothing instrumented.
import type { NodeSDK } from '@opentelemetry/sdk-node';
import { ConfigError, parseConfig, telemetrySchema } from '../config/index.ts';
import type { Lifecycle } from '../lifecycle.ts';
import type { Logger } from './logger.ts';
import { startTracing } from './tracing.ts';

/** The user's mistake, not a crash: one line on stderr, then exit with `code`. */
export function fail(message: string, code: number): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

/** Tracing from the telemetry variables of `env`; a bad one stops the process with one line. */
export async function startProcessTracing(
  service: string,
  env: NodeJS.ProcessEnv,
): Promise<NodeSDK | undefined> {
  try {
    const { OTEL_EXPORTER_OTLP_ENDPOINT } = parseConfig(telemetrySchema, env);
    return await startTracing(service, OTEL_EXPORTER_OTLP_ENDPOINT);
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message, 1);
    throw error;
  }
}

/**
 * The roles named on the command line (as separate arguments or joined by commas), every role
 * when none is; an unknown name stops the process (exit 2) listing the known ones.
 */
export function chooseRoles<Role extends string>(args: readonly string[], roles: readonly Role[]) {
  const named = args.flatMap((arg) => arg.split(',')).filter((name) => name !== '');
  const isRole = (name: string): name is Role => (roles as readonly string[]).includes(name);
  const strangers = named.filter((name) => !isRole(name));
  if (strangers.length > 0) {
    fail(`unknown role ${strangers.join(', ')}: expected ${roles.join(', ')}`, 2);
  }
  return named.length > 0 ? named.filter(isRole) : [...roles];
}

/**
 * Stops the services on SIGTERM or SIGINT, and when the launcher's IPC channel closes (the
 * launcher is gone), then exits once the last spans are sent.
 */
export function stopOnSignals(
  running: { lifecycle: Lifecycle; logger: Logger },
  tracing: NodeSDK | undefined,
): void {
  const exit = (code: number) => {
    void (tracing?.shutdown() ?? Promise.resolve()).finally(() => process.exit(code));
  };
  running.lifecycle.handleSignals(exit);
  if (process.connected) {
    process.once('disconnect', () => {
      running.logger.info('launcher gone, stopping');
      running.lifecycle.shutdown().then(
        () => exit(0),
        () => exit(1),
      );
    });
  }
}
