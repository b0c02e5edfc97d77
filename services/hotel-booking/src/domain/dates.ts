/**
 * Calendar dates as `YYYY-MM-DD` strings. A night is named by the date it
 * starts on, so a stay from 2027-03-01 to 2027-03-03 holds the nights of
 * 2027-03-01 and 2027-03-02. The strings sort as the dates do, which is what
 * the availability table's key relies on.
 */
export type CalendarDate = string;

const DAY_MS = 86_400_000;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Days since 1970-01-01, or undefined when the text is not a real date. */
export function dayNumber(date: string): number | undefined {
  const match = DATE.exec(date);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const time = new Date(0);
  time.setUTCFullYear(year, month - 1, day);
  const real =
    time.getUTCFullYear() === year && time.getUTCMonth() === month - 1 && time.getUTCDate() === day;
  return real && year >= 1970 ? Math.floor(time.getTime() / DAY_MS) : undefined;
}

export function isCalendarDate(value: string): boolean {
  return dayNumber(value) !== undefined;
}

export function fromDayNumber(days: number): CalendarDate {
  return new Date(days * DAY_MS).toISOString().slice(0, 10);
}

export function addDays(date: CalendarDate, days: number): CalendarDate {
  return fromDayNumber(knownDay(date) + days);
}

/** Whole days from one date to another; negative when `to` comes first. */
export function daysBetween(from: CalendarDate, to: CalendarDate): number {
  return knownDay(to) - knownDay(from);
}

/** Every night of a stay: from the arrival date up to, not including, the departure date. */
export function nightsOf(arrival: CalendarDate, departure: CalendarDate): CalendarDate[] {
  const first = knownDay(arrival);
  const count = Math.max(0, knownDay(departure) - first);
  return Array.from({ length: count }, (_, i) => fromDayNumber(first + i));
}

// Building a formatter costs far more than using one; time zones are few.
const formatters = new Map<string, Intl.DateTimeFormat>();

/** The date it is in a time zone at a moment. */
export function todayIn(timeZone: string, now: number): CalendarDate {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  const parts = formatter.formatToParts(now);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')}`;
}

/** An IANA time zone name this runtime knows, such as `Europe/Lisbon` or `UTC`. */
export function isTimeZone(name: string): boolean {
  if (name.length === 0 || name.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

function knownDay(date: CalendarDate): number {
  const day = dayNumber(date);
  if (day === undefined) throw new RangeError(`not a calendar date: ${date}`);
  return day;
}
