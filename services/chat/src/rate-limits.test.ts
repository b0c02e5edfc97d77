import { createLogger, createMetrics, MemoryCache, type Cache } from '@platform/kit';
import { chatMetrics } from './metrics.ts';
import { RateLimited, UserRateLimits } from './rate-limits.ts';

const LIMITS = { send: 3, group_recipients: 10, typing: 2, group_create: 1, upload: 1 };

function limitsOn(cache: Cache, windowMs = 60_000) {
  const metrics = chatMetrics(createMetrics('chat-limits-test'), 'h1');
  const limits = new UserRateLimits({
    cache,
    windowMs,
    limits: LIMITS,
    refused: metrics.rateLimited,
    logger: createLogger('chat-limits-test', 'silent'),
  });
  const refused = async (kind: string) =>
    (await metrics.rateLimited.get()).values.find((v) => v.labels.kind === kind)?.value;
  return { limits, refused };
}

describe('per-user rate limits', () => {
  test('the budget of a window, then RateLimited until it ends; others apart', async () => {
    const { limits, refused } = limitsOn(new MemoryCache());
    for (let i = 0; i < 3; i++) await limits.take('send', 'alice');
    const refusal = await limits.check('send', 'alice');
    expect(refusal).toBeInstanceOf(RateLimited);
    expect(refusal!.status).toBe(429);
    expect(refusal!.code).toBe('rate_limited');
    expect(refusal!.retryAfterMs).toBeGreaterThan(0);
    expect(refusal!.retryAfterMs).toBeLessThanOrEqual(60_000);
    await expect(limits.take('send', 'alice')).rejects.toBeInstanceOf(RateLimited);
    expect(await refused('send')).toBe(2);

    await limits.take('send', 'bob');
    await limits.take('typing', 'alice');
  });

  test('a group send costs its recipients, capped at the whole budget', async () => {
    const { limits } = limitsOn(new MemoryCache());
    await limits.takeSend('alice', 6, true);
    await expect(limits.takeSend('alice', 6, true)).rejects.toMatchObject({
      kind: 'group_recipients',
    });
    // Larger than the budget: sendable once a window, not never.
    await limits.takeSend('bob', 499, true);
    await expect(limits.takeSend('bob', 1, true)).rejects.toBeInstanceOf(RateLimited);
    // A 1:1 send does not touch the group budget.
    await limits.takeSend('bob', 1, false);
  });

  test('the budget comes back when the window ends', async () => {
    const { limits } = limitsOn(new MemoryCache(), 300);
    await limits.take('group_create', 'alice');
    const refusal = await limits.check('group_create', 'alice');
    expect(refusal).toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, refusal!.retryAfterMs + 20));
    expect(await limits.check('group_create', 'alice')).toBeUndefined();
  });

  test('a failing cache lets requests through', async () => {
    const cache = new MemoryCache();
    cache.incrBy = () => Promise.reject(new Error('cache down'));
    const { limits } = limitsOn(cache);
    for (let i = 0; i < 5; i++) await limits.take('upload', 'alice');
  });
});
