import { freePort } from '@platform/kit/testing';
import { directConversationId } from '../src/domain/conversation.ts';
import type { ChatMessage, ServerEvent } from '../src/domain/events.ts';
import { ChatClient, get, signUp } from './client.ts';
import { startChat } from './processes.ts';
import { startSystem, unique, type ChatSystem } from './system.ts';

describe('handlers failing on real servers', () => {
  let system: ChatSystem;

  beforeAll(async () => {
    // The cluster: what a deployment runs, and where pub/sub order needs sharded channels.
    system = await startSystem('real-cluster', 2);
  }, 120_000);

  afterAll(async () => {
    await system?.stop();
  });

  test("kill -9 of the recipient's handler mid-stream: nothing acknowledged is lost or doubled", async () => {
    const [h1, h2] = system.handlers as [(typeof system.handlers)[0], (typeof system.handlers)[0]];
    const api = h1.url;
    const [alice, bob] = await Promise.all([
      signUp(api, unique('alice')),
      signUp(api, unique('bob')),
    ]);
    const conversation = directConversationId(alice.userId, bob.userId);
    const a = await ChatClient.connect(h1.wsUrl, alice.token);
    const b1 = await ChatClient.connect(h2.wsUrl, bob.token);

    const total = 200;
    const acked: string[] = [];
    let killed: Promise<void> | undefined;
    for (let seq = 1; seq <= total; seq++) {
      const answer = await a.sendMessage(conversation, seq, `m${seq}`);
      if (answer.type !== 'ack') throw new Error(`seq ${seq}: ${JSON.stringify(answer)}`);
      acked.push(answer.messageId);
      if (seq === 60) killed = h2.kill('SIGKILL');
    }
    await killed;
    expect(await b1.closed).toBe(1006);
    const beforeKill = b1.inbox.conversation(conversation).length;
    expect(beforeKill).toBeGreaterThan(0);
    expect(beforeKill).toBeLessThan(total);

    // Bob reconnects to the live handler and gets the rest from his pending messages.
    const b2 = await ChatClient.connect(h1.wsUrl, bob.token);
    const after = await b2.waitForMessages(conversation, total - beforeKill, 30_000);
    const seen = new Map<string, ChatMessage>();
    for (const m of [...b1.inbox.conversation(conversation), ...after]) seen.set(m.messageId, m);
    const received = [...seen.values()].sort((x, y) => (x.messageId < y.messageId ? -1 : 1));
    expect(received.map((m) => m.messageId)).toEqual(acked);
    expect(received.map((m) => m.body)).toEqual(acked.map((_, i) => `m${i + 1}`));

    // Stored once each, and nothing left pending once Bob has acknowledged.
    const page = await get(api, `/conversations/${conversation}/messages?limit=500`, bob.token);
    expect((page.json as { messages: ChatMessage[] }).messages.map((m) => m.messageId)).toEqual(
      acked,
    );
    const deadline = Date.now() + 10_000;
    for (;;) {
      const pending = await get(api, `/users/${bob.userId}/pending`, bob.token);
      if ((pending.json as { messages: [] }).messages.length === 0) break;
      if (Date.now() > deadline) throw new Error('pending messages left');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await Promise.all([a.close(), b2.close()]);
  });

  test('SIGTERM drains every connection gradually within the grace period, then exits', async () => {
    const handler = await startChat(
      'h-term',
      'handler',
      { port: await freePort(), adminPort: await freePort() },
      { ...system.env, DRAIN_GRACE_MS: '1500' },
    );
    const account = await signUp(system.handlers[0]!.url, unique('term'));
    const clients = await Promise.all(
      Array.from({ length: 30 }, () => ChatClient.connect(handler.wsUrl, account.token)),
    );
    const closedAt: number[] = [];
    for (const client of clients) void client.closed.then(() => closedAt.push(Date.now()));
    const started = Date.now();
    handler.child.kill('SIGTERM');
    const codes = await Promise.all(clients.map((c) => c.closed));
    expect(codes.every((code) => code === 1012)).toBe(true);
    // Spread over about 80 % of the grace period, not all at once.
    const spread = Math.max(...closedAt) - Math.min(...closedAt);
    expect(spread).toBeGreaterThan(600);
    expect(Math.max(...closedAt) - started).toBeLessThan(2500);
    expect(await handler.exited).toBe(0);
    const last = clients[0]!.events.at(-1) as ServerEvent;
    expect(last.type).not.toBe('error');
  });
});
