/** The rows of the benchmark's table, in its order; its test reads them too. */
export const SCENARIOS = {
  rawDistinct: 'raw transaction, distinct rows',
  storeDistinct: 'BookingStore.reserve, distinct rooms',
  apiDistinct: 'POST /bookings, distinct rooms',
  rawHot: 'raw transaction, one hot row',
  storeHot: 'BookingStore.reserve, one hot room',
  apiHot: 'POST /bookings, one hot room',
  storeSoldOut: 'BookingStore.reserve, hot room sold out',
  apiSoldOut: 'POST /bookings, hot room sold out',
} as const;
