import type { Logger } from '@platform/kit';

/**
 * Runs a step again and again: at once while the step says there is more to
 * do, otherwise after intervalMs. Steps never overlap; close() waits for the
 * one running.
 */
export class RepeatingTask {
  readonly #name: string;
  readonly #step: () => Promise<boolean>;
  readonly #intervalMs: number;
  readonly #logger: Logger;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(name: string, step: () => Promise<boolean>, intervalMs: number, logger: Logger) {
    this.#name = name;
    this.#step = step;
    this.#intervalMs = intervalMs;
    this.#logger = logger;
  }

  start(): void {
    this.#schedule(0);
  }

  /** Runs steps now until there is nothing left; resolves when they are done. */
  runNow(): Promise<void> {
    const run = this.#running.then(async () => {
      while (!this.#closed && (await this.#step()));
    });
    this.#running = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  #schedule(delay: number): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.runNow()
        .catch((error: unknown) => this.#logger.warn({ err: error }, `${this.#name} failed`))
        .finally(() => this.#schedule(this.#intervalMs));
    }, delay);
  }
}
