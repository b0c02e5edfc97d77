import { createLogger } from '@platform/kit';
import { addDays } from './domain/dates.ts';
import { saleWindow } from './domain/inventory.ts';
import { InventoryExtender } from './hold-releaser.ts';
import type { HotelStore } from './store/hotel.store.ts';

describe('InventoryExtender', () => {
  it('opens the nights of the sale window, then retires those kept long enough', async () => {
    const calls: unknown[][] = [];
    const hotels = {
      extendInventory: async (window: unknown) => {
        calls.push(['extend', window]);
        return 3;
      },
      retireNights: async (before: unknown) => {
        calls.push(['retire', before]);
        return 2;
      },
    } as unknown as HotelStore;
    const extender = new InventoryExtender(
      hotels,
      { inventoryDays: 10, pastNightsKeptDays: 30 },
      createLogger('hold-releaser-test', 'silent'),
    );

    extender.start();
    await extender.close();

    const window = saleWindow(Date.now(), 10);
    expect(calls).toEqual([
      ['extend', window],
      ['retire', addDays(window.from, -30)],
    ]);
  });
});
