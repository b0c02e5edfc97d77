import { nightPrices, roomNightPrice, stayPrice } from './pricing.ts';

const rates = { minPrice: 10_000, maxPrice: 20_000 };

describe('roomNightPrice', () => {
  it('runs from the minimum for the first room to the maximum for the last', () => {
    const prices = Array.from({ length: 5 }, (_, taken) => roomNightPrice(rates, taken, 5));
    expect(prices).toEqual([10_000, 12_500, 15_000, 17_500, 20_000]);
  });

  it('rounds to the minor unit', () => {
    expect(roomNightPrice({ minPrice: 0, maxPrice: 100 }, 1, 4)).toBe(33);
    expect(roomNightPrice({ minPrice: 0, maxPrice: 100 }, 2, 4)).toBe(67);
  });

  it('stays within the bounds whatever the counts say', () => {
    expect(roomNightPrice(rates, -3, 5)).toBe(10_000);
    expect(roomNightPrice(rates, 9, 5)).toBe(20_000);
  });

  it('charges the minimum for a room type with a single room', () => {
    expect(roomNightPrice(rates, 0, 1)).toBe(10_000);
  });

  it('charges one price when the bounds are equal', () => {
    const flat = { minPrice: 7_500, maxPrice: 7_500 };
    expect([0, 1, 2, 3].map((taken) => roomNightPrice(flat, taken, 4))).toEqual([
      7_500, 7_500, 7_500, 7_500,
    ]);
  });
});

describe('stayPrice', () => {
  it('adds each night at its own occupancy', () => {
    const nights = [
      { total: 5, available: 5 },
      { total: 5, available: 1 },
    ];
    expect(stayPrice(rates, nights, 1)).toBe(10_000 + 20_000);
  });

  it('prices each room of a booking at the occupancy it is sold at', () => {
    expect(stayPrice(rates, [{ total: 5, available: 5 }], 3)).toBe(10_000 + 12_500 + 15_000);
  });

  it('costs the same as booking the rooms one after another', () => {
    const together = stayPrice(rates, [{ total: 9, available: 7 }], 4);
    let apart = 0;
    for (let i = 0; i < 4; i += 1) apart += stayPrice(rates, [{ total: 9, available: 7 - i }], 1);
    expect(together).toBe(apart);
  });
});

describe('nightPrices', () => {
  it('prices every night of the stay on its own, for all the rooms booked', () => {
    const nights = [
      { total: 5, available: 5 },
      { total: 5, available: 2 },
    ];
    expect(nightPrices(rates, nights, 2)).toEqual([10_000 + 12_500, 17_500 + 20_000]);
    expect(nightPrices(rates, nights, 2).reduce((a, b) => a + b)).toBe(stayPrice(rates, nights, 2));
  });
});
