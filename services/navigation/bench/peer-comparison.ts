// What the GraphHopper test and the comparison script both compute: random pairs, and how a
// peer router's answers line up with our routes.
import { seeded } from '@platform/kit/testing';
import type { Route } from '../src/domain/router.ts';
import type { RoadGraph } from '../src/domain/road-graph.ts';
import type { PeerAnswer } from './graphhopper.ts';

/** count distinct-node pairs of graph nodes, drawn uniformly. */
export function randomPairs(graph: RoadGraph, count: number, seed: number): [number, number][] {
  const random = seeded(seed);
  const pairs: [number, number][] = [];
  while (pairs.length < count) {
    const from = Math.floor(random() * graph.nodeCount);
    const to = Math.floor(random() * graph.nodeCount);
    if (from !== to) pairs.push([from, to]);
  }
  return pairs;
}

export interface PairComparison {
  /** Peer value over ours, for the pairs both sides found. */
  ratios: number[];
  both: number;
  oursOnly: number;
  peerOnly: number;
  neither: number;
}

/** Lines up answers with our routes (same order) and takes the ratio of one measure. */
export function comparePairs(
  routes: readonly Route[],
  answers: readonly PeerAnswer[],
  peerValue: (answer: PeerAnswer) => number,
  ourValue: (route: Route & { reachable: true }) => number,
): PairComparison {
  if (routes.length !== answers.length) {
    throw new RangeError(`${routes.length} routes but ${answers.length} answers`);
  }
  const result: PairComparison = { ratios: [], both: 0, oursOnly: 0, peerOnly: 0, neither: 0 };
  routes.forEach((route, i) => {
    const answer = answers[i]!;
    if (route.reachable && answer.found) {
      result.both++;
      const ours = ourValue(route);
      // Two identical nodes (distance 0) have no meaningful ratio.
      if (ours > 0) result.ratios.push(peerValue(answer) / ours);
    } else if (route.reachable) result.oursOnly++;
    else if (answer.found) result.peerOnly++;
    else result.neither++;
  });
  return result;
}

/** The value at quantile p (0…1) by nearest rank; 0 is the minimum, 1 the maximum. */
export function quantile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}
