import type { EdgeSnap } from './domain/edge-snap.ts';
import type { Metric } from './domain/road-graph.ts';

/**
 * The routes asked for most, least recently used first out. A route depends only on where
 * its endpoints snapped, the metric and the edge speeds, so the key is the first two and a
 * speed change clears the whole cache (an update may touch any route).
 */
export class RouteCache<Route> {
  readonly #capacity: number;
  // A Map iterates in insertion order: re-inserting on a hit keeps the oldest first.
  readonly #routes = new Map<string, Route>();

  /** A capacity of 0 keeps nothing. */
  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#routes.size;
  }

  get(key: string): Route | undefined {
    const route = this.#routes.get(key);
    if (route === undefined) return undefined;
    this.#routes.delete(key);
    this.#routes.set(key, route);
    return route;
  }

  set(key: string, route: Route): void {
    if (this.#capacity === 0) return;
    this.#routes.delete(key);
    this.#routes.set(key, route);
    if (this.#routes.size > this.#capacity) {
      this.#routes.delete(this.#routes.keys().next().value!);
    }
  }

  clear(): void {
    this.#routes.clear();
  }
}

/** The cache key of a pair: the snapped edge and position of each end, and the metric. */
export function routeKey(from: EdgeSnap, to: EdgeSnap, metric: Metric): string {
  return `${metric}:${from.edge}@${from.fraction}:${to.edge}@${to.fraction}`;
}
