import type { Logger } from '@platform/kit';
import { CLOSE, type Connection } from './handler.ts';
import type { ChatMetrics } from './metrics.ts';

/** What a drain closes connections among. */
export interface DrainTarget {
  connections(): Connection[];
}

/** Ticks no closer than this; a faster rate closes several per tick. */
const MIN_TICK_MS = 20;

/**
 * Closes a number of connections gradually, at a rate, with 1012 (service
 * restart) so clients reconnect with jittered backoff and land elsewhere.
 * The newest connections go first: they have the least state to rebuild and
 * are the likeliest to be part of a reconnect storm. A new drain replaces the
 * one running; a drain of 0 cancels it.
 */
export class Drainer {
  readonly #target: DrainTarget;
  readonly #metrics: ChatMetrics;
  readonly #logger: Logger;
  #queue: Connection[] = [];
  #timer: NodeJS.Timeout | undefined;
  #finished: (() => void) | undefined;

  constructor(target: DrainTarget, metrics: ChatMetrics, logger: Logger) {
    this.#target = target;
    this.#metrics = metrics;
    this.#logger = logger;
  }

  /** Starts a drain and says how many connections it will close. */
  start(count: number, perSecond: number, reason = 'rebalance'): number {
    this.cancel();
    if (count <= 0) return 0;
    const open = this.#target.connections().sort((a, b) => b.openedAt - a.openedAt);
    this.#queue = open.slice(0, count);
    if (this.#queue.length === 0) return 0;

    this.#metrics.drains.inc();
    this.#logger.info({ accepted: this.#queue.length, perSecond, reason }, 'drain started');
    const tickMs = Math.max(MIN_TICK_MS, 1000 / perSecond);
    const perTick = Math.max(1, Math.round((perSecond * tickMs) / 1000));
    let credit = 0;
    const tick = () => {
      credit += perTick;
      while (credit >= 1 && this.#queue.length > 0) {
        const next = this.#queue.shift()!;
        credit -= 1;
        next.close(CLOSE.restart, `${reason}: reconnect with backoff`);
        this.#metrics.drained.inc();
      }
      if (this.#queue.length === 0) this.#stop();
    };
    this.#timer = setInterval(tick, tickMs);
    return this.#queue.length;
  }

  /** Connections the running drain has still to close. */
  get remaining(): number {
    return this.#queue.length;
  }

  cancel(): void {
    this.#queue = [];
    this.#stop();
  }

  /** Resolves when the running drain has closed its last connection or was cancelled. */
  done(): Promise<void> {
    if (!this.#timer) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.#finished;
      this.#finished = () => {
        previous?.();
        resolve();
      };
    });
  }

  #stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    const finished = this.#finished;
    this.#finished = undefined;
    finished?.();
  }
}
