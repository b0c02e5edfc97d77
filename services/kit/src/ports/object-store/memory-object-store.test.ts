import { objectStoreContract } from '../../testing/object-store.contract.ts';
import { MemoryObjectStore } from './memory-object-store.ts';

objectStoreContract('in-process', async () => new MemoryObjectStore());
