import { LiveSpeeds } from './live-speeds.ts';
import { buildRoadGraph, type RoadGraph } from './road-graph.ts';
import { weatherFactor } from './weather.ts';

// Three one-way roads of 1 km: a town street (50 km/h), a motorway (100 km/h), and a street whose
// speed is no float32 (so only the import's own travel time is exact).
const TOWN = 0;
const MOTORWAY = 1;
const ODD = 2;

function roads(): RoadGraph {
  const nodes = Array.from({ length: 6 }, (_, i) => ({ lat: 43.7, lon: 7.4 + i / 1000, osmId: i }));
  const road = (from: number, speedKmh: number) => ({
    from,
    to: from + 1,
    lengthM: 1000,
    speedKmh,
    wayId: from + 1,
    oneway: true,
  });
  return buildRoadGraph(nodes, [road(0, 50), road(2, 100), road(4, 37.3)]);
}

const timeAt = (speedKmh: number) => 1000 / (speedKmh / 3.6);
const none = () => 1;
const factor = (value: number) => () => value;

describe('LiveSpeeds', () => {
  it('caps a traffic speed by the weather set after it, and never speeds a jam up', () => {
    const graph = roads();
    const speeds = new LiveSpeeds(graph);
    speeds.setTraffic([TOWN], { speedKmh: 40 });

    // Heavy weather: 60 % of 50 km/h is below the jam.
    expect(speeds.setWeather([TOWN], factor(0.6)).changed).toEqual([TOWN]);
    expect(graph.edgeSpeedKmh[TOWN]).toBeCloseTo(30, 5);
    expect(graph.edgeDurationS[TOWN]).toBeCloseTo(120, 4);

    // Light weather replaces it (no compounding): 90 % of 50 is above the jam, which stays 40.
    expect(speeds.setWeather([TOWN], factor(0.9))).toEqual({
      changed: [TOWN],
      layerChanged: [TOWN],
    });
    expect(graph.edgeSpeedKmh[TOWN]).toBe(40);
    expect(graph.edgeDurationS[TOWN]).toBe(timeAt(40));
  });

  it('gives traffic reported after the weather the slower of the two', () => {
    const graph = roads();
    const speeds = new LiveSpeeds(graph);
    speeds.setWeather([TOWN, MOTORWAY], weatherFactor({ condition: 'rain' }));
    expect(graph.edgeSpeedKmh[MOTORWAY]).toBeCloseTo(90, 4);
    expect(graph.edgeSpeedKmh[TOWN]).toBeCloseTo(47.5, 4);

    expect(speeds.setTraffic([MOTORWAY], { speedKmh: 60 }).changed).toEqual([MOTORWAY]);
    expect(graph.edgeSpeedKmh[MOTORWAY]).toBe(60);
    // Traffic faster than free flow stays under the rain's cap: the live speed does not move,
    // though the traffic layer did.
    expect(speeds.setTraffic([TOWN], { factor: 1.5 })).toEqual({
      changed: [],
      layerChanged: [TOWN],
    });
    expect(graph.edgeSpeedKmh[TOWN]).toBeCloseTo(47.5, 4);
    expect(speeds.trafficKmh(TOWN)).toBe(75);
  });

  it('clears each layer alone: the other one’s speed comes back exactly', () => {
    const graph = roads();
    const trafficOnly = roads();
    new LiveSpeeds(trafficOnly).setTraffic([MOTORWAY], { speedKmh: 70 });
    const speeds = new LiveSpeeds(graph);
    speeds.setTraffic([MOTORWAY], { speedKmh: 70 });
    speeds.setWeather([TOWN, MOTORWAY, ODD], weatherFactor({ condition: 'snow' }));
    expect(graph.edgeSpeedKmh[MOTORWAY]).toBe(50);

    // No weather: the traffic speed and its travel time, as if no weather had ever come.
    expect(speeds.clearWeather().changed).toEqual([TOWN, MOTORWAY, ODD]);
    expect(graph.edgeSpeedKmh).toEqual(trafficOnly.edgeSpeedKmh);
    expect(graph.edgeDurationS).toEqual(trafficOnly.edgeDurationS);
    expect(speeds.clearWeather().changed).toEqual([]);

    // And the other way round: clearing traffic leaves the snow.
    speeds.setWeather([MOTORWAY], weatherFactor({ condition: 'snow' }));
    expect(speeds.clearTraffic().changed).toEqual([]);
    expect(speeds.weatherFactor(MOTORWAY)).toBe(0.5);
    speeds.setTraffic([MOTORWAY], { speedKmh: 20 });
    expect(speeds.clearTraffic()).toEqual({ changed: [MOTORWAY], layerChanged: [MOTORWAY] });
    expect(graph.edgeSpeedKmh[MOTORWAY]).toBe(50);
  });

  it('slows fast roads by a larger share in snow, ice and fog', () => {
    for (const condition of ['rain', 'heavy_rain', 'fog', 'snow', 'ice'] as const) {
      const factorOf = weatherFactor({ condition });
      expect(factorOf(110)).toBeLessThan(factorOf(50));
      expect(factorOf(50)).toBeLessThan(1);
    }
    expect(weatherFactor({ condition: 'snow' })(100)).toBe(0.5);
    expect(weatherFactor({ factor: 0.8 })(100)).toBe(0.8);
  });

  it('clamps the combined speed to 1–140 km/h as traffic does', () => {
    const graph = roads();
    const speeds = new LiveSpeeds(graph);
    speeds.setWeather([ODD], factor(0.01));
    expect(graph.edgeSpeedKmh[ODD]).toBe(1);
    expect(graph.edgeDurationS[ODD]).toBe(3600);

    speeds.setTraffic([MOTORWAY], { factor: 2 });
    expect(graph.edgeSpeedKmh[MOTORWAY]).toBe(140);
    speeds.setWeather([MOTORWAY], factor(0.5));
    expect(graph.edgeSpeedKmh[MOTORWAY]).toBe(50);
  });

  it('restores the import’s exact travel times whenever the result is free flow', () => {
    const graph = roads();
    const imported = graph.edgeDurationS.slice();
    const importedKmh = graph.edgeSpeedKmh.slice();
    const speeds = new LiveSpeeds(graph);
    const all = [TOWN, MOTORWAY, ODD];

    // A report of free flow under no weather changes nothing, to the last bit.
    expect(speeds.setTraffic(all, { factor: 1 }).changed).toEqual([]);
    expect(speeds.setWeather(all, none).changed).toEqual([]);
    // A weather factor of 1 is no weather: it does not cap traffic faster than free flow.
    speeds.setTraffic(all, { factor: 1.2 });
    expect(speeds.setWeather(all, factor(1)).changed).toEqual([]);
    expect(graph.edgeSpeedKmh[TOWN]).toBe(60);
    // Traffic back to free flow: the import's times, not ones recomputed from a float32 speed.
    speeds.setTraffic(all, { factor: 1 });
    expect(graph.edgeDurationS).toEqual(imported);

    speeds.setWeather(all, weatherFactor({ condition: 'ice' }));
    speeds.setTraffic([ODD], { speedKmh: 5 });
    speeds.clearTraffic();
    speeds.clearWeather();
    expect(graph.edgeDurationS).toEqual(imported);
    expect(graph.edgeSpeedKmh).toEqual(importedKmh);
  });
});
