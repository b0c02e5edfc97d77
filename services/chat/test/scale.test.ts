import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import type { ChatMessage } from '../src/domain/events.ts';
import { get } from './client.ts';
import {
  HandlerService,
  inBatches,
  JITTERED,
  type ReconnectingClient,
} from './reconnecting-client.ts';
import { startSystem, type ChatSystem } from './system.ts';
import {
  deliveryReport,
  directConversations,
  groupConversations,
  makeClients,
  registerUsers,
  quantile,
  sendRound,
  until,
  type Conversation,
} from './workload.ts';

const CLIENTS = 2000;
/** The last 200 clients talk in 20 groups of 10; the others two by two. */
const GROUP_SIZE = 10;
const GROUPED = 200;
const HANDLERS = 3;
const ROUNDS = 4;
const ROUND_GAP_MS = 400;
/** The third handler is killed once this many rounds are out. */
const KILL_AFTER_ROUND = 2;
/**
 * A first window of 3 s. Without jitter the delays this test measures still spread by about
 * 0.6 s here (666 timers fire together and opening 666 sockets takes that long); with it they
 * spread over about 80 % of the window. The bound sits between the two.
 */
const BACKOFF = { ...JITTERED, firstMs: 3000 };

/**
 * 2,000 clients on three handler processes (Redis, Cassandra, MySQL) in
 * one-to-one conversations across handlers and in groups (fanned out by the
 * worker through Kafka), a kill -9 of one handler while
 * pipelined messages flow, and its clients coming back through the Service
 * with jittered backoff. The heartbeat and the pending pull are slower than
 * the other tests' so that 2,000 connections do not swamp this machine.
 */
describe('2,000 clients over three handlers, one killed mid-run', () => {
  let system: ChatSystem;
  let clients: ReconnectingClient[] = [];

  beforeAll(async () => {
    system = await startSystem('real', HANDLERS, {
      fanout: true,
      env: { HEARTBEAT_MS: '10000', PENDING_PULL_MS: '3000', DIRECTORY_TTL_MS: '15000' },
    });
  }, 120_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.stop()));
    await system?.stop();
  }, 60_000);

  test('nothing acknowledged is lost or shown twice, order holds, reconnects are spread', async () => {
    const handlers = system.handlers;
    const victim = handlers[HANDLERS - 1]!;
    const service = new HandlerService();
    service.setReady(handlers.map((h) => h.wsUrl));

    // Client i starts on handler i mod 3, so each pair (2k, 2k + 1) spans two handlers, and
    // each group all three.
    clients = await makeClients(CLIENTS, service, BACKOFF);
    await registerUsers(clients, system.env.MYSQL_URL!);
    await inBatches(
      clients.map((client, i) => ({ client, i })),
      100,
      ({ client, i }) => client.start(handlers[i % HANDLERS]!.wsUrl),
    );
    const conversations: Conversation[] = [
      ...directConversations(clients.slice(0, CLIENTS - GROUPED)),
      ...(await groupConversations(clients.slice(CLIENTS - GROUPED), GROUP_SIZE, handlers[0]!.url)),
    ];
    const victims = clients.filter((c) => c.handler === victim.name);
    expect(victims).toHaveLength(Math.floor(CLIENTS / HANDLERS));

    let killedAt = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      sendRound(conversations, round);
      if (round === KILL_AFTER_ROUND) {
        await sleep(ROUND_GAP_MS / 2);
        // The Service stops routing to it as its endpoint goes unready.
        service.setReady(handlers.filter((h) => h !== victim).map((h) => h.wsUrl));
        killedAt = performance.now();
        await victim.kill('SIGKILL');
      }
      await sleep(ROUND_GAP_MS);
    }

    await until('every message acknowledged', 60_000, () => clients.every((c) => c.unacked === 0));
    // Within two pulls on an idle machine; CI's load can stretch a pull a lot.
    await until(
      'every acknowledged message delivered',
      60_000,
      () => deliveryReport(conversations).lost === 0,
      () => deliveryReport(conversations),
    );
    expect(clients.flatMap((c) => c.errors).slice(0, 3)).toEqual([]);
    const report = deliveryReport(conversations);
    expect(report).toMatchObject({
      unacked: 0,
      lost: 0,
      duplicates: 0,
      unknown: 0,
      outOfOrder: 0,
      errors: 0,
      // Each member holds every other member's message of every round.
      held: ((CLIENTS - GROUPED) * 1 + GROUPED * (GROUP_SIZE - 1)) * ROUNDS,
    });

    // Every client of the killed handler came back, on a live one, after the kill.
    for (const client of victims) {
      const back = client.reconnects[0];
      expect(back).toMatchObject({ code: 1006, handler: expect.not.stringMatching(victim.name) });
      expect(back!.closedAt).toBeGreaterThanOrEqual(killedAt);
    }

    // Jitter: each client's delay from its disconnection to its first attempt differs. Without
    // jitter every delay is the same window plus timer lag and the time to open the sockets.
    // Delays, not attempt times alone: this busy test process notices closes late and fires
    // timers in batches, which spreads or bunches both closes and attempts by itself.
    const spread = (values: number[]) => quantile(values, 0.9) - quantile(values, 0.1);
    const delays = victims.map((c) => c.reconnects[0]!.attempts[0]! - c.reconnects[0]!.closedAt);
    expect(spread(delays)).toBeGreaterThan(0.4 * BACKOFF.firstMs);
    // And the attempts, as they happened, are not one burst.
    expect(spread(victims.map((c) => c.reconnects[0]!.attempts[0]!))).toBeGreaterThan(
      0.4 * BACKOFF.firstMs,
    );

    // Stored once each, in order: the history of conversations the kill cut into.
    const cut = conversations.filter((c) => c.members.some((m) => victims.includes(m)));
    await inBatches(cut.slice(0, 40), 8, async ({ id, members }) => {
      const path = `/conversations/${id}/messages?limit=500`;
      const page = await get(handlers[0]!.url, path, members[0]!.token);
      const stored = (page.json as { messages: ChatMessage[] }).messages.map((m) => m.messageId);
      const acked = members.flatMap((m) => m.outgoing.map((o) => o.ack!.messageId)).sort();
      expect(stored).toEqual(acked);
    });
  }, 200_000);
});
