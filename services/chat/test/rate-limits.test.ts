import { directConversationId } from '../src/domain/conversation.ts';
import type { ServerEvent } from '../src/domain/events.ts';
import { ChatClient, get, signUp, type Account } from './client.ts';
import { unique, useSystem, type Servers } from './system.ts';

const WINDOW_MS = 5_000;
const SENDS = 10;
const GROUP_RECIPIENTS = 12;
const TYPING = 5;
const LIMITS = {
  RATE_LIMIT_WINDOW_MS: String(WINDOW_MS),
  SEND_RATE_LIMIT: String(SENDS),
  GROUP_SEND_RATE_LIMIT: String(GROUP_RECIPIENTS),
  TYPING_RATE_LIMIT: String(TYPING),
  GROUP_CREATE_RATE_LIMIT: '2',
  UPLOAD_RATE_LIMIT: '2',
};

type ErrorEvent = Extract<ServerEvent, { type: 'error' }>;
/** n accounts as a tuple of n. */
type Accounts<N extends number, T extends Account[] = []> = T['length'] extends N
  ? T
  : Accounts<N, [...T, Account]>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until a window has just begun, so a burst counts in one window, not two. */
async function freshWindow(): Promise<void> {
  const into = Date.now() % WINDOW_MS;
  if (into > 500) await sleep(WINDOW_MS - into + 50);
}

/** The value of a labelled series in the Prometheus text of /metrics. */
async function labelled(url: string, name: string, label: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(label));
  return Number(line?.split(' ')[1] ?? Number.NaN);
}

async function call(base: string, path: string, account: Account, body: unknown, type?: string) {
  const response = await fetch(base + path, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${account.token}`,
      'content-type': type ?? 'application/json',
    },
    body: type ? (body as Uint8Array) : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    json: (text ? JSON.parse(text) : undefined) as { error?: { code: string } } | undefined,
  };
}

describe.each<Servers>(['embedded', 'real', 'real-cluster'])(
  'per-user rate limits on %s servers',
  (servers) => {
    const chat = useSystem(servers, 2, { env: LIMITS });
    /** On the first handler, or with -1 on the last (the same one when embedded). */
    const connect = (account: Account, handler: 0 | -1 = 0) =>
      chat.connect(handler === 0 ? chat.wsA : chat.wsB, account);
    const users = async <N extends number>(n: N) =>
      (await Promise.all(
        Array.from({ length: n }, (_, i) => signUp(chat.api, unique(`limit${i}`))),
      )) as Accounts<N>;
    const stored = async (account: Account, conversationId: string) => {
      const page = await get(chat.api, `/conversations/${conversationId}/messages`, account.token);
      expect(page.status).toBe(200);
      return (page.json as { messages: { sender: string; clientSeq: number }[] }).messages;
    };

    test('past the send limit: rate_limited frames, nothing stored; others send on', async () => {
      const [alice, bob, carol] = await users(3);
      const a = await connect(alice);
      const c = await connect(carol);
      await connect(bob, -1);
      const withBob = directConversationId(alice.userId, bob.userId);
      const carolWithBob = directConversationId(carol.userId, bob.userId);

      await freshWindow();
      const [answers, carols] = await Promise.all([
        Promise.all(
          Array.from({ length: 15 }, (_, i) => a.sendMessage(withBob, i + 1, `a${i + 1}`)),
        ),
        Promise.all(
          Array.from({ length: SENDS }, (_, i) => c.sendMessage(carolWithBob, i + 1, 'c')),
        ),
      ]);

      // One connection's sends are handled in order: the first ten fit, the rest are refused.
      expect(answers.slice(0, SENDS).every((e) => e.type === 'ack')).toBe(true);
      const refused = answers.slice(SENDS) as ErrorEvent[];
      expect(refused.map((e) => [e.type, e.code, e.clientSeq])).toEqual(
        [11, 12, 13, 14, 15].map((seq) => ['error', 'rate_limited', seq]),
      );
      for (const e of refused) {
        expect(e.retryAfterMs).toBeGreaterThan(0);
        expect(e.retryAfterMs).toBeLessThanOrEqual(WINDOW_MS);
      }
      expect(a.closeCode).toBeUndefined();
      expect((await stored(alice, withBob)).map((m) => m.clientSeq)).toEqual(
        Array.from({ length: SENDS }, (_, i) => i + 1),
      );
      // Carol's budget is her own.
      expect(carols.every((e) => e.type === 'ack')).toBe(true);
      expect(
        await labelled(chat.api, 'chat_rate_limited_total', 'kind="send"'),
      ).toBeGreaterThanOrEqual(5);

      // Once the window has passed, the refused sends go through when resent.
      await sleep(Math.max(...refused.map((e) => e.retryAfterMs!)) + 50);
      const resent = await Promise.all(
        refused.map((e) => a.sendMessage(withBob, e.clientSeq!, 'r')),
      );
      expect(resent.map((e) => e.type)).toEqual(['ack', 'ack', 'ack', 'ack', 'ack']);
      expect(await stored(alice, withBob)).toHaveLength(15);
    }, 60_000);

    test('the limit holds for sends racing from two connections on two handlers', async () => {
      const [dave, erin] = await users(2);
      const [first, second] = await Promise.all([connect(dave, 0), connect(dave, -1)]);
      const conversation = directConversationId(dave.userId, erin.userId);

      await freshWindow();
      const race = (client: ChatClient, from: number) =>
        Promise.all(
          Array.from({ length: SENDS }, (_, i) => client.sendMessage(conversation, from + i, 'x')),
        );
      const answers = (await Promise.all([race(first, 1), race(second, 101)])).flat();

      const acked = answers.filter((e) => e.type === 'ack');
      expect(acked).toHaveLength(SENDS);
      const refused = answers.filter((e): e is ErrorEvent => e.type === 'error');
      expect(refused).toHaveLength(SENDS);
      expect(refused.every((e) => e.code === 'rate_limited')).toBe(true);
      const storedSeqs = (await stored(dave, conversation))
        .map((m) => m.clientSeq)
        .sort((x, y) => x - y);
      const ackedSeqs = acked
        .map((e) => (e as { clientSeq: number }).clientSeq)
        .sort((x, y) => x - y);
      expect(storedSeqs).toEqual(ackedSeqs);
    }, 60_000);

    test('REST sends: 429 with Retry-After; a group send costs one per other member', async () => {
      const [owner, ...members] = await users(5);
      const group = await call(chat.api, '/groups', owner, {
        name: 'limited',
        members: members.map((m) => m.userId),
      });
      expect(group.status).toBe(201);
      const { id, conversationId } = group.json as unknown as {
        id: string;
        conversationId: string;
      };

      // Four recipients a send against a budget of twelve: three sends, then 429.
      await freshWindow();
      const sends = [];
      for (let seq = 1; seq <= 4; seq++) {
        sends.push(
          await call(chat.api, `/groups/${id}/messages`, owner, { clientSeq: seq, body: 'hi' }),
        );
      }
      expect(sends.map((s) => s.status)).toEqual([201, 201, 201, 429]);
      const refusal = sends[3]!;
      expect(refusal.json?.error?.code).toBe('rate_limited');
      expect(Number(refusal.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(refusal.retryAfter)).toBeLessThanOrEqual(WINDOW_MS / 1000);
      expect((await stored(owner, conversationId)).map((m) => m.clientSeq)).toEqual([1, 2, 3]);
      expect(
        await labelled(chat.api, 'chat_rate_limited_total', 'kind="group_recipients"'),
      ).toBeGreaterThan(0);

      // A 1:1 send over REST takes from the message budget (4 of 10 used by now).
      const peer = members[0]!;
      const direct = directConversationId(owner.userId, peer.userId);
      const statuses = [];
      for (let seq = 1; seq <= 7; seq++) {
        const sent = await call(chat.api, '/messages', owner, {
          conversationId: direct,
          clientSeq: seq,
          body: 'd',
        });
        statuses.push(sent.status);
        if (sent.status === 429) expect(sent.retryAfter).not.toBeNull();
      }
      expect(statuses).toEqual([201, 201, 201, 201, 201, 201, 429]);
      expect(await stored(owner, direct)).toHaveLength(6);
    }, 60_000);

    test('group creations and uploads past their limits get 429', async () => {
      const [frank, grace] = await users(2);
      await freshWindow();
      const groups = [];
      for (let i = 0; i < 3; i++) {
        groups.push(
          await call(chat.api, '/groups', frank, { name: `g${i}`, members: [grace.userId] }),
        );
      }
      expect(groups.map((g) => g.status)).toEqual([201, 201, 429]);
      expect(groups[2]!.json?.error?.code).toBe('rate_limited');
      expect(groups[2]!.retryAfter).not.toBeNull();

      const uploads = [];
      for (let i = 0; i < 3; i++) {
        const bytes = new TextEncoder().encode(`asset ${unique('bytes')}`);
        uploads.push(await call(chat.api, '/assets', frank, bytes, 'image/png'));
      }
      expect(uploads.map((u) => u.status)).toEqual([201, 201, 429]);
      expect(uploads[2]!.json?.error?.code).toBe('rate_limited');
      expect(uploads[2]!.retryAfter).not.toBeNull();
    }, 60_000);

    test('typing past the limit is not forwarded, with at most one error frame', async () => {
      const [henry, iris] = await users(2);
      const h = await connect(henry);
      const i = await connect(iris, -1);
      const conversation = directConversationId(henry.userId, iris.userId);
      const before = await labelled(
        chat.system.handlers[0]!.url,
        'chat_rate_limited_total',
        'kind="typing"',
      );

      await freshWindow();
      for (let n = 0; n < 20; n++)
        h.send({ type: 'typing', conversationId: conversation, typing: true });
      await i.waitFor(
        (e) => e.type === 'typing' && i.events.filter((t) => t.type === 'typing').length >= TYPING,
      );
      // A probe sent after the burst: once it is acked, every typing event before it was handled.
      await h.sendMessage(conversation, 1, 'probe');
      await i.waitForMessages(conversation, 1);
      await sleep(300);

      expect(i.events.filter((e) => e.type === 'typing')).toHaveLength(TYPING);
      const errors = h.events.filter((e): e is ErrorEvent => e.type === 'error');
      expect(errors.length).toBeLessThanOrEqual(1);
      expect(errors.every((e) => e.code === 'rate_limited' && e.retryAfterMs! > 0)).toBe(true);
      expect(h.closeCode).toBeUndefined();
      const after = await labelled(
        chat.system.handlers[0]!.url,
        'chat_rate_limited_total',
        'kind="typing"',
      );
      expect(after - before).toBe(20 - TYPING);
    }, 60_000);
  },
);
