import { SignJWT } from 'jose';
import { eventually, freePort } from '@platform/kit/testing';
import type { ChatMessage, ServerEvent } from '../src/domain/events.ts';
import { ChatClient, get, post, signUp, type Account } from './client.ts';
import { startChat } from './processes.ts';
import { TEST_SECRET, unique, useSystem, type Servers } from './system.ts';

interface GroupView {
  id: string;
  name: string;
  conversationId: string;
  members: string[];
}

const bearer = (account: Account) => ({ authorization: `Bearer ${account.token}` });

/** A counter's value in the Prometheus text of /metrics. */
async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
}

/** The message events a client got on the wire for one message id (before any dedupe). */
const onWire = (client: ChatClient, messageId: string) =>
  client.events.filter((e) => e.type === 'message' && e.messageId === messageId).length;

// Real servers: two handler processes and the fan-out worker as a process of its own, on Kafka.
describe.each<Servers>(['embedded', 'real'])('chat groups on %s servers', (servers) => {
  // No pending pull during a test: every message on the wire came from the live path,
  // so counting them counts the fan-out's deliveries.
  const chat = useSystem(servers, 2, { fanout: true, env: { PENDING_PULL_MS: '600000' } });
  const { connect } = chat;
  const fanoutUrl = () => chat.system.fanout!.url;

  const createGroup = async (owner: Account, members: string[], name = 'friends') => {
    const created = await post(chat.api, '/groups', { name, members }, bearer(owner));
    expect(created.status).toBe(201);
    return created.json as GroupView;
  };
  const history = async (account: Account, conversationId: string) => {
    const page = await get(
      chat.api,
      `/conversations/${conversationId}/messages?limit=500`,
      account.token,
    );
    expect(page.status).toBe(200);
    return (page.json as { messages: ChatMessage[] }).messages;
  };
  const pending = async (account: Account) => {
    const page = await get(chat.api, `/users/${account.userId}/pending?limit=500`, account.token);
    expect(page.status).toBe(200);
    return (page.json as { messages: ChatMessage[] }).messages;
  };

  test('a group is created with its members, read by them only; bad input is a 400', async () => {
    const [alice, bob, carol, mallory] = await Promise.all(
      ['alice', 'bob', 'carol', 'mallory'].map((n) => signUp(chat.api, unique(n))),
    );
    // The caller is a member without naming themselves; a member named twice counts once.
    const group = await createGroup(alice!, [bob!.userId, carol!.userId, bob!.userId], 'trio');
    expect(group).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{16}$/),
      name: 'trio',
      conversationId: `grp-${group.id}`,
      members: [alice!.userId, bob!.userId, carol!.userId].sort(),
    });
    expect(await get(chat.api, `/groups/${group.id}`, bob!.token)).toEqual({
      status: 200,
      json: group,
    });
    expect((await get(chat.api, `/groups/${group.id}`, mallory!.token)).status).toBe(403);
    expect((await get(chat.api, '/groups/0123456789abcdef', alice!.token)).status).toBe(404);
    expect((await get(chat.api, `/groups/${group.id}`)).status).toBe(401);

    const refused = async (body: unknown, field: string, code?: string) => {
      const answer = await post(chat.api, '/groups', body, bearer(alice!));
      expect(answer.status).toBe(400);
      expect(answer.json).toMatchObject({ error: { code: code ?? expect.any(String), field } });
    };
    await refused({ name: 'x', members: [bob!.userId, 'nosuchuser1'] }, 'members', 'unknown_users');
    // 500 members at most, the creator included: 500 others are one too many.
    const tooMany = Array.from({ length: 500 }, (_, i) => `u${i}`);
    await refused({ name: 'x', members: tooMany }, 'members', 'too_many_members');
    await refused({ members: [bob!.userId] }, 'name');
    await refused({ name: 'x', members: ['Not-An-Id'] }, 'members.0');
    await refused({ name: 'x', members: [], extra: 1 }, 'body');
  });

  test('members on two handlers get group messages in order, once, with receipts', async () => {
    const [alice, bob, carol] = await Promise.all(
      ['alice', 'bob', 'carol'].map((n) => signUp(chat.api, unique(n))),
    );
    const group = await createGroup(alice!, [bob!.userId, carol!.userId]);
    const a = await connect(chat.wsA, alice!);
    const b = await connect(chat.wsA, bob!);
    const c = await connect(chat.wsB, carol!);

    // Pipelined over one connection: stored, published and acknowledged in order.
    const acks = await Promise.all(
      Array.from({ length: 20 }, (_, i) => a.sendMessage(group.conversationId, i + 1, `m${i + 1}`)),
    );
    expect(acks.every((ack) => ack.type === 'ack' && !ack.duplicate)).toBe(true);
    const ids = acks.map((ack) => (ack as Extract<ServerEvent, { type: 'ack' }>).messageId);
    expect([...ids].sort()).toEqual(ids);

    for (const member of [b, c]) {
      const received = await member.waitForMessages(group.conversationId, 20);
      expect(received.map((m) => m.messageId)).toEqual(ids);
      // On the wire too: in order, each once.
      const wire = member.events.filter((e) => e.type === 'message').map((e) => e.messageId);
      expect(wire).toEqual(ids);
    }
    // A small group: the sender hears each member's delivery.
    for (const member of [bob!, carol!]) {
      await a.waitFor(
        (e) => e.type === 'receipt' && e.userId === member.userId && e.messageId === ids.at(-1),
      );
    }
    expect(a.events.filter((e) => e.type === 'message')).toHaveLength(0);
    // Typing reaches the other members of a small group.
    b.send({ type: 'typing', conversationId: group.conversationId, typing: true });
    for (const other of [a, c]) {
      await other.waitFor((e) => e.type === 'typing' && e.userId === bob!.userId && e.typing);
    }
    await eventually(async () => {
      expect(await pending(bob!)).toHaveLength(0);
      expect(await pending(carol!)).toHaveLength(0);
    });

    // Over REST, idempotent like POST /messages; Idempotency-Key replays the first answer.
    const path = `/groups/${group.id}/messages`;
    const first = await post(chat.api, path, { clientSeq: 1, body: 'from bob' }, bearer(bob!));
    expect(first).toMatchObject({ status: 201, json: { duplicate: false, sender: bob!.userId } });
    const again = await post(chat.api, path, { clientSeq: 1, body: 'from bob' }, bearer(bob!));
    const bobsId = (first.json as ChatMessage).messageId;
    expect(again).toMatchObject({ status: 200, json: { duplicate: true, messageId: bobsId } });
    const keyed = { ...bearer(bob!), 'idempotency-key': unique('key') };
    const k1 = await post(chat.api, path, { clientSeq: 2, body: 'keyed' }, keyed);
    const k2 = await post(chat.api, path, { clientSeq: 2, body: 'keyed' }, keyed);
    expect(k1.status).toBe(201);
    expect(k2).toEqual(k1);
    const keyedId = (k1.json as ChatMessage).messageId;

    // Alice's own messages are not sent back to her.
    for (const [member, count] of [[a, 2] as const, [c, 22] as const]) {
      const received = await member.waitForMessages(group.conversationId, count);
      expect(received.slice(-2).map((m) => m.messageId)).toEqual([bobsId, keyedId]);
    }
    expect(await history(carol!, group.conversationId)).toHaveLength(22);
    expect(await pending(bob!)).toHaveLength(0);
  });

  test("a non-member's post and an unknown group are refused, and nothing is stored", async () => {
    const [alice, bob, mallory] = await Promise.all(
      ['alice', 'bob', 'mallory'].map((n) => signUp(chat.api, unique(n))),
    );
    const group = await createGroup(alice!, [bob!.userId]);
    const m = await connect(chat.wsB, mallory!);

    const rest = await post(
      chat.api,
      `/groups/${group.id}/messages`,
      { clientSeq: 1, body: 'let me in' },
      bearer(mallory!),
    );
    expect(rest).toMatchObject({ status: 403, json: { error: { code: 'not_a_member' } } });
    expect(await m.sendMessage(group.conversationId, 2, 'let me in')).toMatchObject({
      type: 'error',
      code: 'not_a_member',
      field: 'conversationId',
    });
    const unknown = await post(
      chat.api,
      '/groups/0123456789abcdef/messages',
      { clientSeq: 3, body: 'anyone?' },
      bearer(mallory!),
    );
    expect(unknown).toMatchObject({ status: 404, json: { error: { code: 'group_not_found' } } });
    expect(await m.sendMessage('grp-0123456789abcdef', 4, 'anyone?')).toMatchObject({
      type: 'error',
      code: 'group_not_found',
    });
    for (const what of ['messages', 'receipts']) {
      const path = `/conversations/${group.conversationId}/${what}`;
      expect((await get(chat.api, path, mallory!.token)).status).toBe(403);
    }

    // A member's message afterwards is the only one stored and the only one bob gets.
    const ok = await post(
      chat.api,
      `/groups/${group.id}/messages`,
      { clientSeq: 1, body: 'hi' },
      bearer(alice!),
    );
    expect(ok.status).toBe(201);
    const b = await connect(chat.wsA, bob!);
    await b.waitForMessages(group.conversationId, 1);
    expect((await history(alice!, group.conversationId)).map((x) => x.body)).toEqual(['hi']);
    expect(b.inbox.conversation(group.conversationId)).toHaveLength(1);
  });

  test('a record fanned out again neither re-creates acknowledged pending rows nor delivers twice', async () => {
    const [alice, bob, erin] = await Promise.all(
      ['alice', 'bob', 'erin'].map((n) => signUp(chat.api, unique(n))),
    );
    const group = await createGroup(alice!, [bob!.userId, erin!.userId]);
    const path = `/groups/${group.id}/messages`;
    const b = await connect(chat.wsB, bob!);
    const deliveries = () => metric(fanoutUrl(), 'chat_fanout_deliveries_total');

    const before = await deliveries();
    const sent = await post(chat.api, path, { clientSeq: 1, body: 'once' }, bearer(alice!));
    const id = (sent.json as ChatMessage).messageId;
    await b.waitForMessages(group.conversationId, 1);
    // Bob acknowledged it (the client does); erin is offline and keeps it pending.
    await eventually(async () => expect(await pending(bob!)).toHaveLength(0));
    expect((await pending(erin!)).map((x) => x.messageId)).toEqual([id]);
    expect(await deliveries()).toBe(before + 1);

    // The resend is answered with the first ack and publishes the record again: the worker
    // sees the same message a second time, as after a crash or a rebalance.
    const resent = await post(chat.api, path, { clientSeq: 1, body: 'once' }, bearer(alice!));
    expect(resent).toMatchObject({ status: 200, json: { duplicate: true, messageId: id } });
    // Same conversation, same partition: once the next message is through, so is the resend.
    const next = await post(chat.api, path, { clientSeq: 2, body: 'next' }, bearer(alice!));
    const nextId = (next.json as ChatMessage).messageId;
    await b.waitForMessages(group.conversationId, 2);
    await eventually(async () => expect(await pending(bob!)).toHaveLength(0));

    expect(onWire(b, id)).toBe(1);
    expect(onWire(b, nextId)).toBe(1);
    expect(await deliveries()).toBe(before + 2);
    expect((await pending(erin!)).map((x) => x.messageId)).toEqual([id, nextId]);
    expect(await history(alice!, group.conversationId)).toHaveLength(2);

    // Erin, back online, gets both from her pending rows, and they go.
    const e = await connect(chat.wsA, erin!);
    expect((await e.waitForMessages(group.conversationId, 2)).map((x) => x.body)).toEqual([
      'once',
      'next',
    ]);
    await eventually(async () => expect(await pending(erin!)).toHaveLength(0));
  });

  if (servers === 'real') {
    const members: ChatClient[] = [];
    /** 499 users and their owner in one group (made once), tokens minted with the test secret. */
    let made: Promise<{ owner: Account; accounts: Account[]; ids: string[]; group: GroupView }>;
    const bigGroup = () => (made ??= makeBigGroup());
    const makeBigGroup = async () => {
      const password = 'correct horse battery';
      const names = Array.from({ length: 499 }, (_, i) => unique(`m${i}`));
      const owner = await signUp(chat.api, unique('owner'));
      const ids: string[] = [];
      for (let i = 0; i < names.length; i += 25) {
        const chunk = await Promise.all(
          names.slice(i, i + 25).map((name) => post(chat.api, '/users', { name, password })),
        );
        for (const created of chunk) {
          expect(created.status).toBe(201);
          ids.push((created.json as { id: string }).id);
        }
      }
      const key = new TextEncoder().encode(TEST_SECRET);
      const accounts: Account[] = await Promise.all(
        ids.map(async (userId, i) => ({
          userId,
          name: names[i]!,
          token: await new SignJWT({})
            .setProtectedHeader({ alg: 'HS256' })
            .setSubject(userId)
            .setIssuer('chat')
            .setAudience('chat')
            .setExpirationTime('1h')
            .sign(key),
        })),
      );
      const group = await createGroup(owner, ids, 'everyone');
      expect(group.members).toHaveLength(500);
      return { owner, accounts, ids, group };
    };
    /** Delivery acks that removed a pending row, over both handlers. */
    const deliveryAcks = async () => {
      const counts = await Promise.all(
        chat.system.handlers.map((h) => metric(h.url, 'chat_messages_delivered_total')),
      );
      return counts.reduce((sum, n) => sum + n, 0);
    };
    /** Connects every member but the owner, alternating between the two handlers. */
    const connectMembers = async (accounts: Account[]) => {
      members.length = 0;
      for (let i = 0; i < accounts.length; i += 50) {
        const batch = accounts.slice(i, i + 50);
        members.push(
          ...(await Promise.all(
            batch.map((a, j) => connect((i + j) % 2 ? chat.wsB : chat.wsA, a)),
          )),
        );
      }
    };

    test('a 500-member group: every member gets the message once, one publish per handler', async () => {
      const { owner, accounts, ids, group } = await bigGroup();
      const sender = await connect(chat.wsA, owner);
      await connectMembers(accounts);
      const batches = await metric(fanoutUrl(), 'chat_fanout_batches_total');
      const deliveries = await metric(fanoutUrl(), 'chat_fanout_deliveries_total');
      const acked = await deliveryAcks();

      const sent = await post(
        chat.api,
        `/groups/${group.id}/messages`,
        { clientSeq: 1, body: 'hello, everyone' },
        bearer(owner),
      );
      expect(sent.status).toBe(201);
      const id = (sent.json as ChatMessage).messageId;
      await Promise.all(members.map((m) => m.waitForMessages(group.conversationId, 1, 30_000)));
      for (const m of members) {
        expect(m.inbox.conversation(group.conversationId).map((x) => x.messageId)).toEqual([id]);
        expect(onWire(m, id)).toBe(1);
      }
      // One publish per destination handler, carrying its 250 users.
      expect(await metric(fanoutUrl(), 'chat_fanout_batches_total')).toBe(batches + 2);
      expect(await metric(fanoutUrl(), 'chat_fanout_deliveries_total')).toBe(deliveries + 499);
      expect(await metric(fanoutUrl(), 'chat_fanout_seconds_count')).toBeGreaterThan(0);

      // Each member's pending row goes with its delivery ack: the handlers count 499 acks that
      // removed a row (cheap to poll on a loaded machine), then every member has none left.
      await eventually(async () => expect(await deliveryAcks()).toBe(acked + 499), 45_000);
      await eventually(async () => {
        const left: number[] = [];
        for (let i = 0; i < accounts.length; i += 50) {
          const pages = await Promise.all(accounts.slice(i, i + 50).map((a) => pending(a)));
          left.push(...pages.map((p) => p.length));
        }
        expect(left.filter((n) => n > 0)).toHaveLength(0);
      }, 30_000);
      await eventually(async () => expect(await metric(fanoutUrl(), 'chat_fanout_lag')).toBe(0));

      // Above GROUP_RECEIPTS_MAX_MEMBERS no receipts are pushed; the watermarks are there to read.
      await eventually(async () => {
        const path = `/conversations/${group.conversationId}/receipts`;
        const receipts = await get(chat.api, path, owner.token);
        expect(receipts.status).toBe(200);
        const listed = (receipts.json as { receipts: { userId: string; deliveredUpTo: string }[] })
          .receipts;
        const byUser = new Map(listed.map((r) => [r.userId, r.deliveredUpTo]));
        expect(byUser.size).toBe(500);
        expect(byUser.get(owner.userId)).toBeNull();
        expect(ids.filter((user) => byUser.get(user) !== id)).toEqual([]);
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(sender.events.filter((e) => e.type === 'receipt' || e.type === 'message')).toEqual([]);
    }, 90_000);

    test('kill -9 of the fan-out worker mid-way: its successor loses nothing, sends nothing twice', async () => {
      const { owner, accounts, group } = await bigGroup();
      await connectMembers(accounts);
      const acked = await deliveryAcks();
      const sent: string[] = [];
      for (let seq = 101; seq <= 105; seq++) {
        const answer = await post(
          chat.api,
          `/groups/${group.id}/messages`,
          { clientSeq: seq, body: `burst ${seq}` },
          bearer(owner),
        );
        expect(answer.status).toBe(201);
        sent.push((answer.json as ChatMessage).messageId);
      }
      // Killed as soon as the first member has the first message: the rest is in flight.
      await Promise.race(
        members.map((m) => m.waitFor((e) => e.type === 'message' && e.messageId === sent[0])),
      );
      await chat.system.fanout!.kill('SIGKILL');
      const ports = { port: await freePort(), adminPort: await freePort() };
      const successor = await startChat('fanout-2', 'fanout', ports, chat.system.env);
      try {
        // Uncommitted records come again to the successor (after the group drops the dead member).
        await eventually(async () => {
          expect(await metric(successor.url, 'chat_fanout_lag')).toBe(0);
        }, 60_000);
        // Every message a member got on the wire was acknowledged and its row removed.
        const onWires = () =>
          members.reduce((n, m) => n + sent.filter((id) => onWire(m, id)).length, 0);
        await eventually(async () => expect(await deliveryAcks()).toBe(acked + onWires()), 45_000);
        await eventually(async () => {
          for (let i = 0; i < accounts.length; i += 50) {
            const pages = await Promise.all(accounts.slice(i, i + 50).map((a) => pending(a)));
            pages.forEach((page, j) => {
              const m = members[i + j]!;
              const live = sent.filter((id) => onWire(m, id) > 0);
              const stillPending = page.map((x) => x.messageId).filter((id) => sent.includes(id));
              // Never twice on the wire; each message either delivered (and its row gone after
              // the ack) or still pending for the pull: none lost, no acked row re-created.
              for (const id of sent) expect(onWire(m, id)).toBeLessThanOrEqual(1);
              expect([...live, ...stillPending].sort()).toEqual(sent);
            });
          }
        }, 30_000);
        // The kill came before the burst was through: the successor did part of it.
        expect(await metric(successor.url, 'chat_fanout_deliveries_total')).toBeGreaterThan(0);
      } finally {
        await successor.kill('SIGKILL');
      }
    }, 90_000);
  }
});
