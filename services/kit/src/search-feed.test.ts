import { MemoryEventLog } from './ports/event-log/memory-event-log.ts';
import { MiniSearchEngine } from './ports/search/minisearch-engine.ts';
import { searchFeedContract } from './testing/search-feed.contract.ts';

searchFeedContract('in-process event log, minisearch', async () => ({
  eventLog: new MemoryEventLog(),
  engine: new MiniSearchEngine(),
}));
