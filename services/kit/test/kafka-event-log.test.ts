import { pino } from 'pino';
import { eventLogContract } from '../src/testing/event-log.contract.ts';
import { serverAddress } from '../src/testing/servers.ts';
import { KafkaEventLog } from '../src/ports/event-log/kafka-event-log.ts';

eventLogContract(
  'kafka',
  async () =>
    new KafkaEventLog({
      brokers: serverAddress('KAFKA_BROKERS').split(','),
      clientId: 'contract-test',
      logger: pino({ level: 'warn' }),
    }),
);
