import { readConfig } from './config.ts';

describe('url shortener configuration', () => {
  it('hands out short URLs on the port it listens on unless told otherwise', () => {
    expect(readConfig({}).PUBLIC_BASE_URL).toBe('http://localhost:8081');
    expect(readConfig({ PORT: '8091' }).PUBLIC_BASE_URL).toBe('http://localhost:8091');
    expect(readConfig({ PORT: '8091', PUBLIC_BASE_URL: 'https://sho.rt' }).PUBLIC_BASE_URL).toBe(
      'https://sho.rt',
    );
  });
});
