import { cacheContract } from '../src/testing/cache.contract.ts';
import { serverAddress } from '../src/testing/servers.ts';
import { RedisCache } from '../src/ports/cache/redis-cache.ts';

cacheContract('redis', async () => new RedisCache({ url: serverAddress('REDIS_URL') }));
cacheContract(
  'redis cluster',
  async () => new RedisCache({ clusterNodes: serverAddress('REDIS_CLUSTER_NODES').split(',') }),
);
