import { encodeEvent, envelope } from '@platform/kit';
import { readClickBatch } from './click-aggregator.ts';

const visit = { at: 1, ip: '192.0.2.1', userAgent: 'ua', referer: '', count: 2 };
const record = (type: string, version: number, data: unknown) =>
  encodeEvent(envelope(type, version, 'abc', data));

describe('readClickBatch', () => {
  it('reads a click batch of the known type and version', () => {
    const batch = { code: 'abc', visits: [visit] };
    const input = record('url-shortener.clicks', 1, batch);
    const id = (JSON.parse(input.value.toString()) as { id: string }).id;
    expect(readClickBatch(input)).toEqual({ id, data: batch });
  });

  it.each([
    ['another type', record('url-shortener.click', 1, { code: 'abc', visits: [visit] })],
    ['another version', record('url-shortener.clicks', 2, { code: 'abc', visits: [visit] })],
    ['no visits', record('url-shortener.clicks', 1, { code: 'abc' })],
    [
      'a visit without a count',
      record('url-shortener.clicks', 1, { code: 'abc', visits: [{ ...visit, count: 0 }] }),
    ],
    [
      'a visit with a string time',
      record('url-shortener.clicks', 1, { code: 'abc', visits: [{ ...visit, at: 'x' }] }),
    ],
    ['bytes that are not JSON', { key: 'abc', value: Buffer.from('{not json') }],
  ])('skips %s', (_name, input) => {
    expect(readClickBatch(input)).toBeUndefined();
  });
});
