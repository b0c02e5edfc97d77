import { Dijkstra } from './domain/dijkstra.ts';
import { OverlayRouter } from './domain/overlay.ts';
import type { RoadGraph } from './domain/road-graph.ts';
import type { Router } from './domain/router.ts';

/**
 * A router the service can keep across traffic updates. One that precomputes from edge
 * weights (an overlay) is told which edges changed speed; plain Dijkstra reads the weights
 * live and needs no hook.
 */
export interface LiveRouter extends Router {
  onEdgesChanged?(edges: Int32Array | number[]): void;
}

export type RouterFactory = (graph: RoadGraph) => LiveRouter;

/** The routing engines ROUTER may name; a new engine is one more entry here. */
export const ROUTERS = {
  overlay: (graph) => new OverlayRouter(graph),
  dijkstra: (graph) => new Dijkstra(graph),
} satisfies Record<string, RouterFactory>;

export type RouterKind = keyof typeof ROUTERS;
