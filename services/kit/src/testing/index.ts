export {
  ChildProcesses,
  cpuMeter,
  loadAverage,
  machine,
  median,
  waitFor,
  writeSection,
  type CpuUse,
} from './bench.ts';
export { cacheContract } from './cache.contract.ts';
export { eventLogContract } from './event-log.contract.ts';
export { eventually } from './eventually.ts';
export { freePort } from './free-port.ts';
export { seeded } from './random.ts';
export { objectStoreContract } from './object-store.contract.ts';
export { relationalContract } from './relational.contract.ts';
export { startRelay } from './relay.ts';
export {
  dropKeyspace,
  dropSearchIndexes,
  dropTopics,
  scratchDatabase,
  type ScratchDatabase,
} from './scratch-database.ts';
export { searchContract } from './search.contract.ts';
export { searchFeedContract } from './search-feed.contract.ts';
export { serverAddress } from './servers.ts';
export { wideColumnContract } from './wide-column.contract.ts';
