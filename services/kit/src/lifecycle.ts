import type { Logger } from './telemetry/logger.ts';

type Hook = { name: string; run: () => Promise<void> | void };

/**
 * Shutdown hooks run in reverse order of registration, so what started last
 * (the HTTP server) stops first and the clients it used close after it.
 */
export class Lifecycle {
  readonly #hooks: Hook[] = [];
  readonly #logger: Logger;
  #stopping: Promise<void> | undefined;
  #exit: (code: number) => void = (code) => process.exit(code);

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  onShutdown(name: string, run: Hook['run']): void {
    this.#hooks.push({ name, run });
  }

  /** Runs every hook once; later calls return the same promise. */
  shutdown(): Promise<void> {
    this.#stopping ??= this.#runHooks();
    return this.#stopping;
  }

  /** SIGTERM and SIGINT shut down gracefully, then exit; a second signal exits at once. */
  handleSignals(exit: (code: number) => void = (code) => process.exit(code)): void {
    this.#exit = exit;
    const onSignal = (signal: NodeJS.Signals) => {
      if (this.#stopping) {
        this.#logger.warn({ signal }, 'second signal, exiting now');
        exit(1);
        return;
      }
      this.#logger.info({ signal }, 'shutting down');
      this.shutdown().then(
        () => exit(0),
        () => exit(1),
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }

  /**
   * A part of the process stopped working for good (a consumer that gave up):
   * shut down and exit non-zero, so the supervisor or the kubelet restarts it.
   */
  fail(what: string, error: unknown): void {
    this.#logger.fatal({ err: error, part: what }, 'cannot go on, shutting down');
    this.shutdown().then(
      () => this.#exit(1),
      () => this.#exit(1),
    );
  }

  async #runHooks(): Promise<void> {
    let failed = false;
    for (const hook of [...this.#hooks].reverse()) {
      try {
        await hook.run();
      } catch (error) {
        failed = true;
        this.#logger.error({ err: error, hook: hook.name }, 'shutdown step failed');
      }
    }
    if (failed) throw new Error('shutdown incomplete');
  }
}
