export { importOsm, type ImportedGraph, type ImportSummary } from './import/osm-import.ts';
export { Dijkstra } from './domain/dijkstra.ts';
export type { Endpoint, Route, Router } from './domain/router.ts';
export { NodeGrid, type Snap } from './domain/node-grid.ts';
export type { Metric, RoadGraph } from './domain/road-graph.ts';
export { navigationErrors, navigationError } from './errors.ts';
export { parseNavigationConfig, readConfig, type Config } from './config.ts';
export { runNavigation, type NavigationOptions, type RunningNavigation } from './service.ts';
export { ROUTERS, type LiveRouter, type RouterFactory } from './routers.ts';
