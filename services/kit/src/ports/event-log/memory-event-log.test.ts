import { eventLogContract } from '../../testing/event-log.contract.ts';
import { MemoryEventLog } from './memory-event-log.ts';

eventLogContract('in-process', async () => new MemoryEventLog());
