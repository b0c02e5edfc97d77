import { saleWindow } from './inventory.ts';

describe('saleWindow', () => {
  it('opens yesterday in UTC through the configured number of nights after today', () => {
    const now = Date.UTC(2027, 11, 31, 23, 59);
    expect(saleWindow(now, 2)).toEqual({
      from: '2027-12-30',
      until: '2028-01-03',
      lastNight: '2028-01-02',
    });
  });
});
