/** A room type's price bounds per room and night, in the currency's minor unit (cents). */
export interface RoomRates {
  minPrice: number;
  maxPrice: number;
}

/** One night's inventory of a room type as the booking transaction read it. */
export interface NightInventory {
  total: number;
  available: number;
}

/**
 * The price of one room for one night when `taken` of `total` rooms are
 * already held or sold: minPrice for the first room, maxPrice for the last,
 * and in between in proportion to occupancy, rounded to the minor unit.
 */
export function roomNightPrice(rates: RoomRates, taken: number, total: number): number {
  if (total <= 1) return rates.minPrice;
  const occupancy = Math.min(1, Math.max(0, taken / (total - 1)));
  return rates.minPrice + Math.round((rates.maxPrice - rates.minPrice) * occupancy);
}

/**
 * The price of `quantity` rooms for each night. Each room is priced at the
 * occupancy it is sold at, so the second room of a booking costs what the
 * next booker would pay for it.
 */
export function nightPrices(
  rates: RoomRates,
  nights: NightInventory[],
  quantity: number,
): number[] {
  return nights.map((night) => {
    const taken = night.total - night.available;
    let amount = 0;
    for (let room = 0; room < quantity; room += 1) {
      amount += roomNightPrice(rates, taken + room, night.total);
    }
    return amount;
  });
}

/** The price of `quantity` rooms over the nights: the sum of nightPrices. */
export function stayPrice(rates: RoomRates, nights: NightInventory[], quantity: number): number {
  return nightPrices(rates, nights, quantity).reduce((sum, price) => sum + price, 0);
}
