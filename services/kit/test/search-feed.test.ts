import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { KafkaEventLog } from '../src/ports/event-log/kafka-event-log.ts';
import { OpenSearchEngine } from '../src/ports/search/opensearch-engine.ts';
import { searchFeedContract } from '../src/testing/search-feed.contract.ts';
import { dropSearchIndexes, dropTopics } from '../src/testing/scratch-database.ts';
import { serverAddress } from '../src/testing/servers.ts';

// Kafka topics and groups and OpenSearch indexes of this run carry their own prefix, and
// are deleted when the file is done.
const prefixes: string[] = [];
afterAll(async () => {
  for (const prefix of prefixes) await Promise.all([dropTopics(prefix), dropSearchIndexes(prefix)]);
});

searchFeedContract('kafka, opensearch', async () => {
  const prefix = `feed-${randomBytes(3).toString('hex')}.`;
  prefixes.push(prefix);
  return {
    eventLog: new KafkaEventLog({
      brokers: serverAddress('KAFKA_BROKERS').split(','),
      clientId: 'search-feed-test',
      logger: pino({ level: 'fatal' }),
      prefix,
    }),
    engine: new OpenSearchEngine({ node: serverAddress('OPENSEARCH_URL'), prefix }),
  };
});
