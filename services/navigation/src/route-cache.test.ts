import type { EdgeSnap } from './domain/edge-snap.ts';
import { RouteCache, routeKey } from './route-cache.ts';

const snap = (edge: number, fraction: number): EdgeSnap => ({
  ok: true,
  edge,
  twin: -1,
  fraction,
  lat: 0,
  lon: 0,
  distanceM: 3,
});

describe('RouteCache', () => {
  it('drops the least recently used route when full', () => {
    const cache = new RouteCache<string>(2);
    cache.set('a', 'A');
    cache.set('b', 'B');
    expect(cache.get('a')).toBe('A');
    cache.set('c', 'C');
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual(['A', undefined, 'C']);
    expect(cache.size).toBe(2);
  });

  it('keeps nothing with a capacity of 0, and nothing after clear', () => {
    const none = new RouteCache<string>(0);
    none.set('a', 'A');
    expect(none.get('a')).toBeUndefined();
    const cache = new RouteCache<string>(5);
    cache.set('a', 'A');
    cache.clear();
    expect([cache.get('a'), cache.size]).toEqual([undefined, 0]);
  });

  it('keys a pair by snapped edge, position and metric, not by how far the point was', () => {
    const near = routeKey(snap(4, 0.5), snap(9, 0), 'time');
    expect(routeKey({ ...snap(4, 0.5), distanceM: 80 }, snap(9, 0), 'time')).toBe(near);
    expect(routeKey(snap(4, 0.5), snap(9, 0), 'distance')).not.toBe(near);
    expect(routeKey(snap(4, 0.25), snap(9, 0), 'time')).not.toBe(near);
    expect(routeKey(snap(9, 0), snap(4, 0.5), 'time')).not.toBe(near);
  });
});
