import {
  addDays,
  dayNumber,
  daysBetween,
  fromDayNumber,
  isCalendarDate,
  isTimeZone,
  nightsOf,
  todayIn,
} from './dates.ts';

describe('calendar dates', () => {
  it.each(['2027-01-01', '2028-02-29', '2027-12-31', '1970-01-01'])('accepts %s', (date) => {
    expect(isCalendarDate(date)).toBe(true);
    expect(fromDayNumber(dayNumber(date)!)).toBe(date);
  });

  it.each([
    ['a day that does not exist', '2027-02-29'],
    ['month 13', '2027-13-01'],
    ['day 0', '2027-01-00'],
    ['a time', '2027-01-01T00:00:00Z'],
    ['a short form', '2027-1-1'],
    ['another order', '01-03-2027'],
    ['a year before 1970', '1969-12-31'],
    ['nothing', ''],
  ])('refuses %s', (_what, date) => {
    expect(isCalendarDate(date)).toBe(false);
  });

  it('counts across month, year and leap-day boundaries', () => {
    expect(addDays('2027-12-31', 1)).toBe('2028-01-01');
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(addDays('2028-03-01', -1)).toBe('2028-02-29');
    expect(daysBetween('2027-12-25', '2028-01-05')).toBe(11);
    expect(daysBetween('2028-01-05', '2027-12-25')).toBe(-11);
  });

  it('throws on arithmetic with a date that is not one', () => {
    expect(() => addDays('2027-02-30', 1)).toThrow(RangeError);
  });
});

describe('nightsOf', () => {
  it('holds every night from arrival up to departure', () => {
    expect(nightsOf('2027-02-27', '2027-03-02')).toEqual([
      '2027-02-27',
      '2027-02-28',
      '2027-03-01',
    ]);
  });

  it('is empty when departure is not after arrival', () => {
    expect(nightsOf('2027-03-02', '2027-03-02')).toEqual([]);
    expect(nightsOf('2027-03-02', '2027-03-01')).toEqual([]);
  });
});

describe('todayIn', () => {
  // Honolulu is ten hours behind UTC, Kiritimati fourteen ahead.
  it.each([
    ['UTC', Date.UTC(2027, 2, 1, 0, 0), '2027-03-01'],
    ['Europe/Lisbon', Date.UTC(2027, 2, 1, 23, 59), '2027-03-01'],
    ['Pacific/Honolulu', Date.UTC(2027, 2, 1, 9, 59), '2027-02-28'],
    ['Pacific/Honolulu', Date.UTC(2027, 2, 1, 10, 0), '2027-03-01'],
    ['Pacific/Kiritimati', Date.UTC(2027, 2, 1, 10, 0), '2027-03-02'],
  ])('gives the date in %s at %d', (zone, moment, expected) => {
    expect(todayIn(zone, moment)).toBe(expected);
  });

  it('knows time zone names and refuses others', () => {
    expect(isTimeZone('Asia/Tokyo')).toBe(true);
    expect(isTimeZone('Mars/Olympus_Mons')).toBe(false);
    expect(isTimeZone('')).toBe(false);
  });
});
