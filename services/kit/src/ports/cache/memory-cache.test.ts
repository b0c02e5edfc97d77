import { cacheContract } from '../../testing/cache.contract.ts';
import { MemoryCache } from './memory-cache.ts';

cacheContract('in-process', async () => new MemoryCache());
