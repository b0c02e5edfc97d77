import { directConversationId } from '../src/domain/conversation.ts';
import type { ServerEvent } from '../src/domain/events.ts';
import type { Presence } from '../src/presence.ts';
import { ChatClient, get, post, signUp, type Account } from './client.ts';
import { unique, useSystem, type Servers } from './system.ts';

type PresenceEvent = Extract<ServerEvent, { type: 'presence' }>;

const TTL_MS = 3000;
const FANOUT_MS = 400;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/**
 * A handler trusts a user → handlers lookup for DIRECTORY_CACHE_MS (200 ms in tests): a
 * contact who connected less than that after the sender last looked it up is missed.
 */
const settle = () => sleep(300);

describe.each<Servers>(['embedded', 'real'])('presence on %s servers', (servers) => {
  const chat = useSystem(servers);
  const { connect } = chat;

  const presenceOf = async (asker: Account, user: Account) => {
    const answer = await get(chat.api, `/users/${user.userId}/presence`, asker.token);
    expect(answer.status).toBe(200);
    return answer.json as Presence;
  };
  const waitForPresence = async (
    asker: Account,
    user: Account,
    status: Presence['status'],
    timeoutMs = 10_000,
  ) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const presence = await presenceOf(asker, user);
      if (presence.status === status) return presence;
      if (Date.now() > deadline) throw new Error(`still ${presence.status}, not ${status}`);
      await sleep(50);
    }
  };
  const presenceEvents = (client: ChatClient, user: Account) =>
    client.events.filter(
      (e): e is PresenceEvent => e.type === 'presence' && e.userId === user.userId,
    );
  /** Two users who have exchanged a message, so each is the other's contact. */
  const contacts = async () => {
    const [alice, bob] = await Promise.all([
      signUp(chat.api, unique('alice')),
      signUp(chat.api, unique('bob')),
    ]);
    const conversationId = directConversationId(alice.userId, bob.userId);
    const sent = await post(
      chat.api,
      '/messages',
      { conversationId, clientSeq: 1, body: 'hi' },
      { authorization: `Bearer ${alice.token}` },
    );
    expect(sent.status).toBe(201);
    return { alice, bob, conversationId };
  };

  test('online, away, then offline with the time the last connection went; contacts hear each', async () => {
    const { alice, bob } = await contacts();
    const stranger = await signUp(chat.api, unique('carol'));
    expect(await presenceOf(bob, alice)).toEqual({
      userId: alice.userId,
      status: 'offline',
      lastSeen: null,
    });
    const b = await connect(chat.wsB, bob);
    const c = await connect(chat.wsB, stranger);
    await settle();

    const opened = Date.now();
    const a1 = await connect(chat.wsA, alice);
    const a2 = await connect(chat.wsB, alice);
    expect((await presenceOf(bob, alice)).status).toBe('online');
    const online = (await b.waitFor(
      (e) => e.type === 'presence' && e.userId === alice.userId && e.status === 'online',
    )) as PresenceEvent;
    expect(online.lastSeen).toBeGreaterThanOrEqual(opened - 50);

    a1.send({ type: 'presence_update', status: 'away' });
    await waitForPresence(bob, alice, 'away');
    await b.waitFor(
      (e) => e.type === 'presence' && e.userId === alice.userId && e.status === 'away',
    );

    // One connection closing leaves the other: still there (away), nothing sent.
    await a1.close();
    await sleep(FANOUT_MS + 300);
    expect((await presenceOf(bob, alice)).status).toBe('away');
    expect(presenceEvents(b, alice).map((e) => e.status)).toEqual(['online', 'away']);

    const closing = Date.now();
    await a2.close();
    const offline = await waitForPresence(bob, alice, 'offline');
    expect(offline.lastSeen).toBeGreaterThanOrEqual(closing - 50);
    expect(offline.lastSeen).toBeLessThanOrEqual(Date.now());
    const told = (await b.waitFor(
      (e) => e.type === 'presence' && e.userId === alice.userId && e.status === 'offline',
    )) as PresenceEvent;
    expect(told.lastSeen).toBe(offline.lastSeen);

    // Not a contact: told nothing.
    await sleep(200);
    expect(presenceEvents(c, alice)).toEqual([]);
  });

  test('a flapping client reaches its contacts at most once per fan-out interval, ending right', async () => {
    const { alice, bob } = await contacts();
    const b = await connect(chat.wsB, bob);
    await settle();
    const a = await connect(chat.wsA, alice);
    await b.waitFor((e) => e.type === 'presence' && e.userId === alice.userId);

    const started = Date.now();
    for (let i = 0; i < 40; i++) {
      a.send({ type: 'presence_update', status: i % 2 === 0 ? 'away' : 'online' });
      await sleep(10);
    }
    a.send({ type: 'presence_update', status: 'away' });
    await waitForPresence(bob, alice, 'away');
    await sleep(FANOUT_MS * 2 + 500);

    const flaps = presenceEvents(b, alice).filter((e) => e.lastSeen! >= started - 50);
    const elapsed = Date.now() - started;
    expect(flaps.length).toBeGreaterThan(0);
    expect(flaps.length).toBeLessThanOrEqual(Math.ceil(elapsed / FANOUT_MS) + 1);
    expect(flaps.length).toBeLessThan(10);
    expect(flaps.at(-1)!.status).toBe('away');
  });

  test('the conversations of a user, for that user only', async () => {
    const { alice, bob, conversationId } = await contacts();
    const mine = await get(chat.api, `/users/${alice.userId}/conversations`, alice.token);
    expect(mine.status).toBe(200);
    expect(mine.json).toEqual({
      conversations: [{ conversationId, peer: bob.userId, lastMessageAt: expect.any(Number) }],
    });
    const theirs = await get(chat.api, `/users/${bob.userId}/conversations`, bob.token);
    expect((theirs.json as { conversations: { peer: string }[] }).conversations).toEqual([
      expect.objectContaining({ conversationId, peer: alice.userId }),
    ]);
    expect((await get(chat.api, `/users/${bob.userId}/conversations`, alice.token)).status).toBe(
      403,
    );
    expect((await get(chat.api, `/users/${bob.userId}/presence`)).status).toBe(401);
    expect((await get(chat.api, `/users/NOT-AN-ID/presence`, alice.token)).status).toBe(404);
  });

  if (servers === 'real') {
    test('kill -9 of the only handler holding a user: offline within the TTL, contacts told', async () => {
      const { alice, bob } = await contacts();
      const doomed = await chat.system.addHandler('h-doomed');
      const b = await connect(chat.wsA, bob);
      await settle();
      const connectedAt = Date.now();
      const a = await ChatClient.connect(doomed.wsUrl, alice.token);
      await waitForPresence(bob, alice, 'online');
      await b.waitFor(
        (e) => e.type === 'presence' && e.userId === alice.userId && e.status === 'online',
      );

      await sleep(1500);
      const killedAt = Date.now();
      await doomed.kill('SIGKILL');
      await a.closed;

      // The directory entries lapse within the TTL; presence reads the directory.
      const offline = await waitForPresence(bob, alice, 'offline', TTL_MS + 2000);
      expect(Date.now() - killedAt).toBeLessThan(TTL_MS + 1000);
      expect(offline.lastSeen).toBeGreaterThanOrEqual(connectedAt - 50);
      expect(offline.lastSeen).toBeLessThanOrEqual(killedAt);

      // A live handler's sweep notices the lapse and tells the contacts.
      const told = (await b.waitFor(
        (e) => e.type === 'presence' && e.userId === alice.userId && e.status === 'offline',
        TTL_MS * 2 + 2000,
      )) as PresenceEvent;
      expect(Date.now() - killedAt).toBeLessThan(TTL_MS * 2 + 1000);
      expect(told.lastSeen).toBeGreaterThanOrEqual(connectedAt - 50);
      expect(told.lastSeen).toBeLessThanOrEqual(killedAt);
    });
  }
});
