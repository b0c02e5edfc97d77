import { eventually } from '@platform/kit/testing';
import { SignJWT } from 'jose';
import { directConversationId } from '../src/domain/conversation.ts';
import type { ChatMessage, ServerEvent } from '../src/domain/events.ts';
import { get, post, signUp, upgradeRefusal, upgradeStatus, type Account } from './client.ts';
import { unique, useSystem, type Servers } from './system.ts';

describe.each<Servers>(['embedded', 'real', 'real-cluster'])('chat on %s servers', (servers) => {
  const chat = useSystem(servers);
  const { connect } = chat;

  const history = async (account: Account, conversationId: string) => {
    const page = await get(
      chat.api,
      `/conversations/${conversationId}/messages?limit=500`,
      account.token,
    );
    expect(page.status).toBe(200);
    return (page.json as { messages: ChatMessage[] }).messages;
  };

  test('users on different handlers exchange messages in order, with acks and receipts', async () => {
    const [alice, bob] = await Promise.all([
      signUp(chat.api, unique('alice')),
      signUp(chat.api, unique('bob')),
    ]);
    const conversation = directConversationId(alice.userId, bob.userId);
    const a = await connect(chat.wsA, alice);
    const b = await connect(chat.wsB, bob);

    // Pipelined: the handler stores and forwards one connection's sends in order.
    const acks = await Promise.all(
      Array.from({ length: 30 }, (_, i) => a.sendMessage(conversation, i + 1, `hello ${i + 1}`)),
    );
    const ids = acks.map((ack) => (ack as Extract<ServerEvent, { type: 'ack' }>).messageId);
    expect(acks.every((ack) => ack.type === 'ack')).toBe(true);
    expect([...ids].sort()).toEqual(ids);

    const received = await b.waitForMessages(conversation, 30);
    expect(received.map((m) => m.body)).toEqual(
      Array.from({ length: 30 }, (_, i) => `hello ${i + 1}`),
    );
    expect(received.map((m) => m.messageId)).toEqual(ids);
    // Forwards of one sender arrive in order on the wire too (no pending pull in between).
    const wire = b.events
      .filter((e) => e.type === 'message')
      .map((e) => (e as ChatMessage).messageId);
    expect(wire).toEqual(ids);
    await a.waitFor(
      (e) => e.type === 'receipt' && e.status === 'delivered' && e.messageId === ids.at(-1),
    );
    b.send({ type: 'read_ack', conversationId: conversation, messageId: ids.at(-1) });
    await a.waitFor((e) => e.type === 'receipt' && e.status === 'read');

    // A reply flows back the other way.
    await b.sendMessage(conversation, 1, 'hi alice');
    await a.waitForMessages(conversation, 1);
    expect(await history(alice, conversation)).toHaveLength(31);
  });

  test('an offline user gets pending messages on connecting, then none are pending', async () => {
    const [carol, dave] = await Promise.all([
      signUp(chat.api, unique('carol')),
      signUp(chat.api, unique('dave')),
    ]);
    const conversation = directConversationId(carol.userId, dave.userId);
    const c = await connect(chat.wsA, carol);
    for (let seq = 1; seq <= 5; seq++) await c.sendMessage(conversation, seq, `while away ${seq}`);

    const pending = await get(chat.api, `/users/${dave.userId}/pending`, dave.token);
    expect((pending.json as { messages: ChatMessage[] }).messages).toHaveLength(5);
    expect((await get(chat.api, `/users/${dave.userId}/pending`, carol.token)).status).toBe(403);

    const d = await connect(chat.wsB, dave);
    const received = await d.waitForMessages(conversation, 5);
    expect(received.map((m) => m.body)).toEqual([1, 2, 3, 4, 5].map((n) => `while away ${n}`));
    await c.waitFor((e) => e.type === 'receipt' && e.status === 'delivered');
    await eventually(async () => {
      const after = await get(chat.api, `/users/${dave.userId}/pending`, dave.token);
      expect((after.json as { messages: ChatMessage[] }).messages).toHaveLength(0);
    });
  });

  test('a resent message gets the same ack and is stored once', async () => {
    const [erin, frank] = await Promise.all([
      signUp(chat.api, unique('erin')),
      signUp(chat.api, unique('frank')),
    ]);
    const conversation = directConversationId(erin.userId, frank.userId);
    const e = await connect(chat.wsA, erin);
    const first = await e.sendMessage(conversation, 7, 'once');
    const again = await e.sendMessage(conversation, 7, 'once');
    expect(first).toMatchObject({ type: 'ack', duplicate: false });
    expect(again).toMatchObject({
      type: 'ack',
      duplicate: true,
      messageId: (first as ChatMessage).messageId,
    });

    // REST: the same claim, and Idempotency-Key replays the first answer.
    const auth = { authorization: `Bearer ${erin.token}`, 'idempotency-key': unique('k') };
    const body = { conversationId: conversation, clientSeq: 8, body: 'by rest' };
    const viaRest = await post(chat.api, '/messages', body, auth);
    const replay = await post(chat.api, '/messages', body, auth);
    expect(viaRest.status).toBe(201);
    expect(replay.json).toEqual(viaRest.json);
    const resend = await post(chat.api, '/messages', body, { authorization: auth.authorization });
    expect(resend.json).toMatchObject({ duplicate: true });

    const stored = await history(erin, conversation);
    expect(stored.map((m) => m.body)).toEqual(['once', 'by rest']);
  });

  type Ack = Extract<ServerEvent, { type: 'ack' }>;
  test('two devices of one user numbering alike send two messages; a true resend is still one', async () => {
    const [olga, pete] = await Promise.all([
      signUp(chat.api, unique('olga')),
      signUp(chat.api, unique('pete')),
    ]);
    const conversation = directConversationId(olga.userId, pete.userId);
    const [phone, laptop] = await Promise.all([connect(chat.wsA, olga), connect(chat.wsB, olga)]);
    // Each device numbers its sends from 1: same clientSeq, different bodies, at the same time.
    const [fromPhone, fromLaptop] = (await Promise.all([
      phone.sendMessage(conversation, 1, 'from the phone'),
      laptop.sendMessage(conversation, 1, 'from the laptop'),
    ])) as [Ack, Ack];
    expect(fromPhone).toMatchObject({ type: 'ack', duplicate: false });
    expect(fromLaptop).toMatchObject({ type: 'ack', duplicate: false });
    expect(fromPhone.messageId).not.toBe(fromLaptop.messageId);
    const again = await phone.sendMessage(conversation, 1, 'from the phone');
    expect(again).toMatchObject({ duplicate: true, messageId: fromPhone.messageId });

    const stored = await history(pete, conversation);
    expect(stored.map((m) => [m.messageId, m.body]).sort()).toEqual(
      [
        [fromPhone.messageId, 'from the phone'],
        [fromLaptop.messageId, 'from the laptop'],
      ].sort(),
    );
  });

  test("an Idempotency-Key is the caller's own: the same key from another user is its own send", async () => {
    const [lea, max, ned] = (await Promise.all(
      ['lea', 'max', 'ned'].map((n) => signUp(chat.api, unique(n))),
    )) as [Account, Account, Account];
    const conversation = directConversationId(lea.userId, max.userId);
    // Both peers number from 1 and derive their keys the same way: the same key, the same body.
    const key = { 'idempotency-key': unique('same') };
    const body = { conversationId: conversation, clientSeq: 1, body: 'hi' };
    const fromLea = await post(chat.api, '/messages', body, {
      authorization: `Bearer ${lea.token}`,
      ...key,
    });
    const fromMax = await post(chat.api, '/messages', body, {
      authorization: `Bearer ${max.token}`,
      ...key,
    });
    expect(fromLea.status).toBe(201);
    expect(fromMax.status).toBe(201);
    expect(fromMax.json).toMatchObject({ sender: max.userId, duplicate: false });
    const stored = await history(lea, conversation);
    expect(stored.map((m) => m.sender).sort()).toEqual([lea.userId, max.userId].sort());

    // A stranger neither gets their answer replayed nor blocks the key with another body.
    const fromNed = await post(chat.api, '/messages', body, {
      authorization: `Bearer ${ned.token}`,
      ...key,
    });
    expect(fromNed.status).toBe(403);
    const taken = unique('taken');
    const squat = await post(
      chat.api,
      '/messages',
      { conversationId: directConversationId(ned.userId, lea.userId), clientSeq: 1, body: 'x' },
      { authorization: `Bearer ${ned.token}`, 'idempotency-key': taken },
    );
    expect(squat.status).toBe(201);
    const after = await post(
      chat.api,
      '/messages',
      { ...body, clientSeq: 2 },
      { authorization: `Bearer ${lea.token}`, 'idempotency-key': taken },
    );
    expect(after.status).toBe(201);
    expect(await history(lea, conversation)).toHaveLength(3);

    // The same in a group: two members' first messages, one key, one body, both stored.
    const created = await post(
      chat.api,
      '/groups',
      { name: 'team', members: [max.userId] },
      { authorization: `Bearer ${lea.token}` },
    );
    const group = created.json as { id: string; conversationId: string };
    for (const member of [lea, max]) {
      const sent = await post(
        chat.api,
        `/groups/${group.id}/messages`,
        { clientSeq: 1, body: 'hello team' },
        { authorization: `Bearer ${member.token}`, ...key },
      );
      expect(sent).toMatchObject({ status: 201, json: { sender: member.userId } });
    }
    expect(await history(max, group.conversationId)).toHaveLength(2);
  });

  test('history pages with a cursor, and sync pulls what follows a watermark', async () => {
    const [jo, kim] = await Promise.all([
      signUp(chat.api, unique('jo')),
      signUp(chat.api, unique('kim')),
    ]);
    const found = await get(chat.api, `/conversations/direct/${kim.userId}`, jo.token);
    const conversation = (found.json as { conversationId: string }).conversationId;
    expect(conversation).toBe(directConversationId(jo.userId, kim.userId));
    expect((await get(chat.api, `/conversations/direct/${jo.userId}`, jo.token)).status).toBe(404);
    expect((await get(chat.api, '/conversations/direct/nobody0', jo.token)).status).toBe(404);

    const j = await connect(chat.wsA, jo);
    for (let seq = 1; seq <= 7; seq++) await j.sendMessage(conversation, seq, `n${seq}`);
    const bodies: string[] = [];
    let after = '';
    for (let pages = 0; pages < 5; pages++) {
      const page = await get(
        chat.api,
        `/conversations/${conversation}/messages?limit=3${after ? `&after=${after}` : ''}`,
        kim.token,
      );
      const { messages, next } = page.json as { messages: ChatMessage[]; next: string | null };
      bodies.push(...messages.map((m) => m.body));
      if (!next) break;
      after = next;
    }
    expect(bodies).toEqual([1, 2, 3, 4, 5, 6, 7].map((n) => `n${n}`));
    const bad = await get(chat.api, `/conversations/${conversation}/messages?limit=0`, kim.token);
    expect(bad.status).toBe(400);

    const k = await connect(chat.wsB, kim, { autoAck: false });
    const history = await k.waitForMessages(conversation, 7);
    const from = k.events.length;
    k.send({ type: 'sync', conversationId: conversation, after: history[4]!.messageId });
    const synced = await k.waitFor((e, i) => i >= from && e.type === 'synced');
    expect(synced).toMatchObject({ last: history[6]!.messageId });
    const pulled = k.events.slice(from).filter((e) => e.type === 'message') as ChatMessage[];
    expect(pulled.map((m) => m.body)).toEqual(['n6', 'n7']);
  });

  test('bad input is refused and nothing is stored', async () => {
    const [gina, hal, ivan] = (await Promise.all(
      ['gina', 'hal', 'ivan'].map((n) => signUp(chat.api, unique(n))),
    )) as [Account, Account, Account];
    const theirs = directConversationId(hal.userId, ivan.userId);
    const g = await connect(chat.wsA, gina!);

    g.sendRaw('{not json');
    await g.waitFor((e) => e.type === 'error' && e.code === 'invalid_json');
    g.send({ type: 'shout', conversationId: theirs });
    await g.waitFor((e) => e.type === 'error' && e.code === 'unknown_event');
    g.send({ type: 'send_message', conversationId: theirs, clientSeq: 'one', body: 'x' });
    await g.waitFor(
      (e) => e.type === 'error' && e.code === 'invalid_event' && e.field === 'clientSeq',
    );
    g.send({ type: 'typing', conversationId: theirs, typing: true, shout: 1 });
    await g.waitFor((e) => e.type === 'error' && e.code === 'invalid_event' && e.field === 'shout');
    const refused = await g.sendMessage(theirs, 1, 'let me in');
    expect(refused).toMatchObject({ type: 'error', code: 'not_a_member', clientSeq: 1 });
    const rest = await post(
      chat.api,
      '/messages',
      { conversationId: theirs, clientSeq: 2, body: 'let me in' },
      { authorization: `Bearer ${gina!.token}` },
    );
    expect(rest.status).toBe(403);
    expect((await get(chat.api, `/conversations/${theirs}/messages`, gina!.token)).status).toBe(
      403,
    );
    expect(await history(hal!, theirs)).toHaveLength(0);
    expect(
      (await get(chat.api, `/users/${ivan!.userId}/pending`, ivan!.token)).json as { messages: [] },
    ).toEqual({ messages: [] });

    // A lone surrogate would be stored as U+FFFD while the ack and a live forward carry it:
    // text that is not well-formed Unicode is refused, over WS and REST, message or group name.
    const ours = directConversationId(gina!.userId, hal!.userId);
    const lone = await g.sendMessage(ours, 3, 'half \ud83d');
    expect(lone).toMatchObject({ type: 'error', code: 'invalid_event', field: 'body' });
    const loneRest = await post(
      chat.api,
      '/messages',
      { conversationId: ours, clientSeq: 4, body: '\udc00 half' },
      { authorization: `Bearer ${gina!.token}` },
    );
    expect(loneRest).toMatchObject({ status: 400, json: { error: { field: 'body' } } });
    const loneName = await post(
      chat.api,
      '/groups',
      { name: 'team \ud800', members: [hal!.userId] },
      { authorization: `Bearer ${gina!.token}` },
    );
    expect(loneName).toMatchObject({ status: 400, json: { error: { field: 'name' } } });
    expect(await history(hal!, ours)).toHaveLength(0);
    expect((await g.sendMessage(ours, 5, 'whole 😀')).type).toBe('ack');

    // A one-to-one conversation with a user id no one has: refused, not stored as pending for
    // nobody (and not a 201 that tells the sender it went somewhere).
    const ghost = directConversationId(gina!.userId, 'f'.repeat(16));
    const toGhost = await g.sendMessage(ghost, 6, 'anyone there?');
    expect(toGhost).toMatchObject({ type: 'error', code: 'user_not_found', clientSeq: 6 });
    const toGhostRest = await post(
      chat.api,
      '/messages',
      { conversationId: ghost, clientSeq: 7, body: 'anyone there?' },
      { authorization: `Bearer ${gina!.token}` },
    );
    expect(toGhostRest).toMatchObject({
      status: 404,
      json: { error: { code: 'user_not_found', field: 'conversationId' } },
    });
    expect(await history(gina!, ghost)).toHaveLength(0);

    // Acks name a message of the conversation: a made-up id (here one from the future) would
    // move the watermark past every message still to come and tell the peer so.
    const future = 'f'.repeat(22);
    for (const type of ['read_ack', 'delivery_ack']) {
      g.send({ type, conversationId: ours, messageId: future });
      await g.waitFor(
        (e) => e.type === 'error' && e.code === 'message_not_found' && e.field === 'messageId',
      );
    }
    const receipts = await get(chat.api, `/conversations/${ours}/receipts`, hal!.token);
    expect(receipts.json).toMatchObject({
      receipts: expect.arrayContaining([
        { userId: gina!.userId, deliveredUpTo: null, readUpTo: null },
      ]) as unknown,
    });

    // A frame over MAX_FRAME_BYTES closes the connection with 1009.
    g.sendRaw(JSON.stringify({ type: 'typing', conversationId: 'x'.repeat(20_000), typing: true }));
    expect(await g.closed).toBe(1009);

    // Upgrades: no token, a forged one, a foreign Origin; the allowed Origin and a subprotocol pass.
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(hal!.userId)
      .setIssuer('chat')
      .setAudience('chat')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('not-the-secret-not-the-secret-not-the-secret'));
    expect(await upgradeStatus(chat.wsA)).toBe(401);
    expect(await upgradeStatus(chat.wsA, { headers: { authorization: `Bearer ${forged}` } })).toBe(
      401,
    );
    expect(await upgradeStatus(chat.wsA, { headers: { authorization: 'Bearer x.y.z' } })).toBe(401);
    // A refusal says why, in the platform's error body, with an RFC 6750 challenge.
    const missing = await upgradeRefusal(chat.wsA);
    expect(missing.body).toEqual({ error: expect.objectContaining({ code: 'unauthenticated' }) });
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="chat"');
    const bad = await upgradeRefusal(chat.wsA, { headers: { authorization: `Bearer ${forged}` } });
    expect(bad.status).toBe(401);
    expect(bad.headers['www-authenticate']).toContain('error="invalid_token"');
    expect((bad.body as { error: { message: string } }).error.message).toContain('expired');
    expect((await upgradeRefusal(`${chat.wsA.replace(/\/ws$/, '')}/elsewhere`)).body).toEqual({
      error: expect.objectContaining({ code: 'not_found' }),
    });
    const bearer = { authorization: `Bearer ${hal!.token}` };
    expect(await upgradeStatus(chat.wsA, { headers: bearer, origin: 'https://evil.example' })).toBe(
      403,
    );
    expect(await upgradeStatus(chat.wsA, { headers: bearer, origin: 'https://chat.example' })).toBe(
      101,
    );
    expect(await upgradeStatus(chat.wsA, { protocols: ['chat.v1', `bearer.${hal!.token}`] })).toBe(
      101,
    );
    expect(await upgradeStatus(`${chat.wsA}?access_token=${hal!.token}`)).toBe(101);
  });

  test('the admin contract reports load and drains the asked number at about the asked rate', async () => {
    const handler = chat.system.handlers[0]!;
    const accounts = await Promise.all(
      Array.from({ length: 10 }, (_, i) => signUp(chat.api, unique(`load${i}`))),
    );
    // 200 connections, 20 per user.
    const many = await Promise.all(
      Array.from({ length: 200 }, (_, i) => connect(handler.wsUrl, accounts[i % 10]!)),
    );
    const load = await get(handler.adminUrl, '/admin/load');
    expect(load.json).toEqual({ handler: handler.name, connections: 200, draining: 0 });

    const started = Date.now();
    const drain = await post(handler.adminUrl, '/admin/drain', { connections: 50, perSecond: 50 });
    expect(drain).toMatchObject({ status: 202, json: { accepted: 50 } });
    const during = (await get(handler.adminUrl, '/admin/load')).json as { draining: number };
    expect(during.draining).toBeGreaterThan(0);
    await eventually(() => expect(many.filter((c) => c.closeCode !== undefined)).toHaveLength(50));
    const took = Date.now() - started;
    // 50 at 50/s is about a second.
    expect(took).toBeGreaterThan(700);
    expect(took).toBeLessThan(3000);
    expect(many.filter((c) => c.closeCode === 1012)).toHaveLength(50);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await get(handler.adminUrl, '/admin/load')).json).toMatchObject({
      connections: 150,
      draining: 0,
    });

    // A new drain replaces the running one; 0 cancels.
    await post(handler.adminUrl, '/admin/drain', { connections: 100, perSecond: 5 });
    const cancel = await post(handler.adminUrl, '/admin/drain', { connections: 0 });
    expect(cancel).toMatchObject({ status: 202, json: { accepted: 0 } });
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(many.filter((c) => c.closeCode !== undefined).length).toBeLessThanOrEqual(51);
    const bad = await post(handler.adminUrl, '/admin/drain', { connections: -1 });
    expect(bad.status).toBe(400);
  });
});
