import { haversineM, metresPerDegree } from './geo.ts';

describe('haversineM', () => {
  it('is zero for the same point', () => {
    expect(haversineM(43.73, 7.42, 43.73, 7.42)).toBe(0);
  });

  it('measures one degree of latitude as about 111.2 km', () => {
    expect(haversineM(0, 0, 1, 0)).toBeCloseTo(111_195, 0);
  });

  it('measures Paris to London as about 343.9 km', () => {
    const d = haversineM(48.8566, 2.3522, 51.5074, -0.1278);
    expect(d).toBeGreaterThan(343_000);
    expect(d).toBeLessThan(344_500);
  });

  it('is symmetric', () => {
    expect(haversineM(42.5, 1.5, 42.6, 1.6)).toBeCloseTo(haversineM(42.6, 1.6, 42.5, 1.5), 9);
  });

  it('shrinks a degree of longitude with latitude', () => {
    const scale = metresPerDegree(60);
    expect(scale.lon / scale.lat).toBeCloseTo(0.5, 9);
  });
});
