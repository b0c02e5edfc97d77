import { withExpiredEvents } from './redis-expirations.ts';

describe('withExpiredEvents', () => {
  it.each([
    ['', 'Ex'],
    ['Kg', 'KgEx'],
    ['E$', 'E$x'],
    ['Kx', 'KxE'],
  ])('adds what %j lacks for expiry events', (flags, expected) => {
    expect(withExpiredEvents(flags)).toBe(expected);
  });

  it.each(['Ex', 'xE', 'EA', 'KEA', 'AKE'])('leaves %j alone', (flags) => {
    expect(withExpiredEvents(flags)).toBeUndefined();
  });
});
