/** Roads whose free-flow speed reaches this are fast roads (motorways, trunk roads, rural). */
export const FAST_ROAD_KMH = 80;

/**
 * Share of free flow each condition allows, on fast roads and on the others. Fast roads lose a
 * larger share because stopping distance grows with the square of speed. Round figures chosen
 * for this service, not calibrated against measurements.
 */
export const WEATHER_CONDITIONS = {
  rain: { fast: 0.9, other: 0.95 },
  heavy_rain: { fast: 0.75, other: 0.85 },
  fog: { fast: 0.6, other: 0.8 },
  snow: { fast: 0.5, other: 0.7 },
  ice: { fast: 0.35, other: 0.5 },
} as const satisfies Record<string, { fast: number; other: number }>;

export type WeatherCondition = keyof typeof WEATHER_CONDITIONS;

export const WEATHER_CONDITION_NAMES = Object.keys(WEATHER_CONDITIONS) as [
  WeatherCondition,
  ...WeatherCondition[],
];

/** A named condition, or one factor of free flow for every road. */
export type Weather = { condition: WeatherCondition } | { factor: number };

/** The factor of free flow the weather allows on a road of that free-flow speed. */
export function weatherFactor(weather: Weather): (freeFlowKmh: number) => number {
  if ('factor' in weather) return () => weather.factor;
  const { fast, other } = WEATHER_CONDITIONS[weather.condition];
  return (freeFlowKmh) => (freeFlowKmh >= FAST_ROAD_KMH ? fast : other);
}
