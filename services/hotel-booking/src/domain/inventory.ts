import { addDays, todayIn, type CalendarDate } from './dates.ts';

/** The nights on sale: from `from` up to, not including, `until`; `lastNight` is the last. */
export interface SaleWindow {
  from: CalendarDate;
  until: CalendarDate;
  lastNight: CalendarDate;
}

/**
 * Nights are on sale from yesterday in UTC, which is still today west of
 * Greenwich, through `days` nights after today in UTC.
 */
export function saleWindow(now: number, days: number): SaleWindow {
  const today = todayIn('UTC', now);
  return {
    from: addDays(today, -1),
    until: addDays(today, days + 1),
    lastNight: addDays(today, days),
  };
}
