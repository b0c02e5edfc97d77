import { parseMaxspeed, WALK_KMH } from './maxspeed.ts';

describe('parseMaxspeed', () => {
  it.each([
    ['50', 50],
    ['30 km/h', 30],
    ['90kmh', 90],
    ['7.5', 7.5],
    ['RU:living_street', 20],
    ['FR:urban', 50],
    ['FR:rural', 90],
    ['FR:motorway', 130],
    ['DE:zone30', 30],
    ['DE:zone:20', 20],
    ['walk', WALK_KMH],
    ['50;30', 30],
    ['none;30', 30],
    [' 40 ', 40],
  ])('reads %j as %d km/h', (raw, kmh) => {
    expect(parseMaxspeed(raw)).toBe(kmh);
  });

  it('converts miles and knots to km/h', () => {
    expect(parseMaxspeed('50 mph')).toBeCloseTo(80.467, 3);
    expect(parseMaxspeed('10 knots')).toBeCloseTo(18.52, 3);
  });

  it.each([undefined, 'none', 'signals', 'variable', '', 'fast', '0', 'XX:unknown', '-30'])(
    'gives no limit for %j',
    (raw) => {
      expect(parseMaxspeed(raw)).toBeNull();
    },
  );
});
