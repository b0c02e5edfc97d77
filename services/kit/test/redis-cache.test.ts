import { randomBytes } from 'node:crypto';
import { cacheContract } from '../src/testing/cache.contract.ts';
import { serverAddress } from '../src/testing/servers.ts';
import { RedisCache } from '../src/ports/cache/redis-cache.ts';

const url = () => serverAddress('REDIS_URL');
const clusterNodes = () => serverAddress('REDIS_CLUSTER_NODES').split(',');

cacheContract('redis', async () => new RedisCache({ url: url() }));
cacheContract('redis cluster', async () => new RedisCache({ clusterNodes: clusterNodes() }));
cacheContract(
  'redis cluster with a name prefix',
  async () => new RedisCache({ clusterNodes: clusterNodes(), prefix: 'contract.' }),
);

describe('redis cache with a name prefix', () => {
  const run = randomBytes(4).toString('hex');
  const caches = [
    new RedisCache({ url: url(), prefix: `a-${run}.` }),
    new RedisCache({ url: url(), prefix: `b-${run}.` }),
    new RedisCache({ url: url() }),
  ] as const;
  afterAll(() => Promise.all(caches.map((cache) => cache.close())));

  it('keeps keys of two deployments apart and stores them under the prefix', async () => {
    const [a, b, bare] = caches;
    await a.set('counter', '1');
    await b.incrBy('counter', 5);
    expect(await a.get('counter')).toBe('1');
    expect(await b.get('counter')).toBe('5');
    expect(await bare.get(`a-${run}.counter`)).toBe('1');
    expect(await bare.get('counter')).not.toBe('1');
  });

  it('keeps channels of two deployments apart', async () => {
    const [a, b] = caches;
    const heard: string[] = [];
    const stopA = await a.subscribe('news', (m) => heard.push(`a:${m}`));
    const stopB = await b.subscribe('news', (m) => heard.push(`b:${m}`));
    await b.publish('news', 'for b');
    await a.publish('news', 'for a');
    const deadline = Date.now() + 5000;
    while (heard.length < 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(heard.sort()).toEqual(['a:for a', 'b:for b']);
    await Promise.all([stopA(), stopB()]);
  });
});
