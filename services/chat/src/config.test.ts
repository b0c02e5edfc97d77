import { DEFAULT_TOKEN_SECRET, parseChatConfig } from './config.ts';

describe('chat configuration', () => {
  test('runs embedded with no variables, on 8085 with the admin contract on 9121', () => {
    const config = parseChatConfig({});
    expect(config.PORT).toBe(8085);
    expect(config.ADMIN_PORT).toBe(9121);
    expect(config.TOKEN_SECRET).toBe(DEFAULT_TOKEN_SECRET);
    expect(config.HANDLER_ID).toMatch(/^[\w.-]{1,64}$/);
    expect(config.MAX_GROUP_MEMBERS).toBe(500);
    expect(config.GROUP_CACHE_MS).toBe(5_000);
    expect(config.RATE_LIMIT_WINDOW_MS).toBe(10_000);
    expect(config.SEND_RATE_LIMIT).toBe(200);
    expect(config.GROUP_SEND_RATE_LIMIT).toBe(5_000);
  });

  test.each([
    ['HANDLER_ID', 'handler one'],
    ['TOKEN_SECRET', 'short'],
    ['HEARTBEAT_MS', '10'],
    ['ADMIN_PORT', '70000'],
    ['PASSWORD_HASH_LOG_N', '30'],
    ['MAX_GROUP_MEMBERS', '1'],
    ['GROUP_CACHE_MS', '-1'],
    ['RATE_LIMIT_WINDOW_MS', '10'],
    ['SEND_RATE_LIMIT', '0'],
    ['GROUP_SEND_RATE_LIMIT', 'many'],
    ['TYPING_RATE_LIMIT', '-5'],
    ['GROUP_CREATE_RATE_LIMIT', '1.5'],
    ['UPLOAD_RATE_LIMIT', '0'],
  ])('a bad %s is named', (variable, value) => {
    expect(() => parseChatConfig({ [variable]: value })).toThrow(
      new RegExp(`^invalid configuration: ${variable}: `),
    );
  });

  test('ALLOWED_ORIGINS is a comma-separated list', () => {
    const config = parseChatConfig({ ALLOWED_ORIGINS: 'https://a.example, https://b.example' });
    expect(config.ALLOWED_ORIGINS).toEqual(['https://a.example', 'https://b.example']);
  });
});
