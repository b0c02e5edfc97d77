import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Server } from 'node:net';
import kafkajs from 'kafkajs';
import { pino } from 'pino';
import { eventLogContract } from '../src/testing/event-log.contract.ts';
import { freePort } from '../src/testing/free-port.ts';
import { startRelay } from '../src/testing/relay.ts';
import { dropTopics } from '../src/testing/scratch-database.ts';
import { serverAddress } from '../src/testing/servers.ts';
import { KafkaEventLog } from '../src/ports/event-log/kafka-event-log.ts';
import type { ConsumedRecord } from '../src/ports/event-log/event-log.ts';

const open = (prefix?: string) =>
  new KafkaEventLog({
    brokers: serverAddress('KAFKA_BROKERS').split(','),
    clientId: 'contract-test',
    // The contract fails handlers on purpose; kafkajs logs each failure at error level.
    logger: pino({ level: 'fatal' }),
    ...(prefix === undefined ? {} : { prefix }),
  });

// Each prefix is this run's own; the topics under them are deleted when the file is done.
const prefixes: string[] = [];
const runPrefix = (name: string) => {
  const prefix = `${name}-${randomBytes(4).toString('hex')}.`;
  prefixes.push(prefix);
  return prefix;
};
afterAll(() => Promise.all(prefixes.map((prefix) => dropTopics(prefix))));

eventLogContract('kafka', async () => open(runPrefix('contract')));

describe('kafka event log with a name prefix', () => {
  const logs = [open(runPrefix('a')), open(runPrefix('b'))];
  afterAll(() => Promise.all(logs.map((log) => log.close())));

  it('keeps topics and consumer groups of two deployments apart', async () => {
    const [a, b] = logs as [KafkaEventLog, KafkaEventLog];
    const seen: Record<'a' | 'b', ConsumedRecord[]> = { a: [], b: [] };
    for (const [name, log] of [
      ['a', a],
      ['b', b],
    ] as const) {
      await log.subscribe({
        group: 'readers',
        topics: ['orders'],
        handleBatch: async (batch) => {
          seen[name].push(...batch.records);
        },
      });
    }
    await a.publish(
      'orders',
      [1, 2, 3].map((i) => ({ key: `k${i}`, value: Buffer.from(`${i}`) })),
    );
    await b.publish('orders', [{ key: 'only-b', value: Buffer.from('b') }]);

    const deadline = Date.now() + 30_000;
    while (seen.a.length < 3 || seen.b.length < 1 || (await a.lag('readers', 'orders')) > 0) {
      if (Date.now() > deadline) throw new Error(`not consumed: ${JSON.stringify(seen)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(seen.a.map((r) => r.key).sort()).toEqual(['k1', 'k2', 'k3']);
    expect(seen.b.map((r) => r.key)).toEqual(['only-b']);
    // Handlers see the name they asked for, not the prefixed one.
    expect(new Set([...seen.a, ...seen.b].map((r) => r.topic))).toEqual(new Set(['orders']));
    expect(await b.lag('readers', 'orders')).toBe(0);
  }, 60_000);

  it('names a distinct incarnation per prefix, since positions differ per topic', () => {
    const [a, b] = logs as [KafkaEventLog, KafkaEventLog];
    expect(new Set([a.incarnation, b.incarnation, open().incarnation]).size).toBe(3);
  });
});

describe('kafka event log when the client gives up', () => {
  const log = open(runPrefix('stop'));
  afterAll(() => log.close());

  it('tells the subscriber that consuming stopped for good', async () => {
    let handled = 0;
    const stopped = new Promise<Error>((resolve) => {
      void log.subscribe({
        group: 'readers',
        topics: ['orders'],
        handleBatch: async () => {
          handled += 1;
          // kafkajs restarts a consumer after retriable errors only.
          throw new kafkajs.KafkaJSNonRetriableError('cannot go on');
        },
        onStopped: resolve,
      });
    });
    await log.publish('orders', [{ key: 'k', value: Buffer.from('v') }]);
    expect((await stopped).message).toBe('cannot go on');
    expect(handled).toBe(1);
  }, 60_000);
});

describe('kafkajs on Node 24', () => {
  it("drops kafkajs's negative-timer warning and no other", () => {
    const module = new URL('../src/ports/event-log/kafka-event-log.ts', import.meta.url).href;
    const script = `
      import { pino } from 'pino';
      import { KafkaEventLog } from ${JSON.stringify(module)};
      const log = new KafkaEventLog({
        brokers: ${JSON.stringify(serverAddress('KAFKA_BROKERS').split(','))},
        clientId: 'warning-test',
        logger: pino({ level: 'fatal' }),
      });
      await log.createTopic('warning-test', { partitions: 1 });
      await log.publish('warning-test', [{ key: 'k', value: Buffer.from('v') }]);
      await log.close();
      // Node warns of a negative timer once a process: the same warning from elsewhere.
      process.emitWarning('-5 is a negative number.', 'TimeoutNegativeWarning');
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(0);
    expect(run.stderr.match(/TimeoutNegativeWarning/g)).toEqual(['TimeoutNegativeWarning']);
    expect(run.stderr).toContain('-5 is a negative number');
  }, 70_000);
});

describe('kafka event log when Kafka comes back', () => {
  // A relay on a port of our own stands for the broker: closed while "Kafka is down", then
  // passing connections to the real one. The broker then names its own address, so only
  // the first connection of each client goes through the relay.
  let relay: Server | undefined;
  let log: KafkaEventLog | undefined;
  afterAll(async () => {
    await log?.close();
    relay?.close();
  });

  it('publishes and answers pings once reachable, after failing while it was not', async () => {
    const port = await freePort();
    const [host, brokerPort] = serverAddress('KAFKA_BROKERS').split(',')[0]!.split(':');
    log = new KafkaEventLog({
      brokers: [`127.0.0.1:${port}`],
      clientId: 'comeback-test',
      logger: pino({ level: 'silent' }),
      prefix: runPrefix('comeback'),
    });
    const record = { key: 'k', value: Buffer.from('v') };
    // Both clients fail to connect (kafkajs retries for some seconds), side by side.
    await Promise.all([
      expect(log.ping()).rejects.toThrow(),
      expect(log.publish('orders', [record])).rejects.toThrow(),
    ]);

    relay = await startRelay(port, host!, Number(brokerPort));

    await log.ping();
    await log.createTopic('orders');
    await log.publish('orders', [record]);
    expect(await log.lag('nobody', 'orders')).toBe(1);
  }, 45_000);
});
