import { createHash, randomBytes } from 'node:crypto';
import { eventually } from '@platform/kit/testing';
import { directConversationId } from '../src/domain/conversation.ts';
import type { ChatMessage, ServerEvent } from '../src/domain/events.ts';
import { ChatClient, get, post, signUp, type Account } from './client.ts';
import { unique, useSystem, type Servers } from './system.ts';

const bearer = (account: Account) => ({ authorization: `Bearer ${account.token}` });
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const errorOf = (json: unknown) => (json as { error: { code: string; field?: string } }).error;
type Sent = ChatMessage & { duplicate: boolean };

// Real servers: two handler processes on Redis and Cassandra, the fan-out worker on Kafka.
describe.each<Servers>(['embedded', 'real'])('attachments on %s servers', (servers) => {
  const chat = useSystem(servers, 2, { fanout: true, env: { MAX_ATTACHMENTS: '3' } });
  const { connect } = chat;

  const upload = async (account: Account) => {
    const bytes = randomBytes(2000);
    const response = await fetch(`${chat.api}/assets`, {
      method: 'POST',
      headers: { ...bearer(account), 'content-type': 'image/png' },
      body: bytes,
    });
    expect(response.status).toBe(201);
    const { assetId } = (await response.json()) as { assetId: string };
    expect(assetId).toBe(sha256(bytes));
    return assetId;
  };
  const history = async (account: Account, conversationId: string) => {
    const page = await get(chat.api, `/conversations/${conversationId}/messages`, account.token);
    expect(page.status).toBe(200);
    return (page.json as { messages: ChatMessage[] }).messages;
  };
  const pending = async (account: Account) => {
    const page = await get(chat.api, `/users/${account.userId}/pending`, account.token);
    expect(page.status).toBe(200);
    return (page.json as { messages: ChatMessage[] }).messages;
  };
  const sendOnWs = (
    client: ChatClient,
    fields: { conversationId: string; clientSeq: number; body: string; attachments?: unknown },
  ) => {
    const from = client.events.length;
    const answer = client.waitFor(
      (e, index) =>
        index >= from &&
        (e.type === 'ack' || e.type === 'error') &&
        e.clientSeq === fields.clientSeq,
    );
    client.send({ type: 'send_message', ...fields });
    return answer;
  };

  test('1:1 with attachments: live, pending on reconnect, history, sync, resends', async () => {
    const [alice, bob] = await Promise.all([
      signUp(chat.api, unique('alice')),
      signUp(chat.api, unique('bob')),
    ]);
    const conversation = directConversationId(alice.userId, bob.userId);
    const [photo, clip] = [await upload(alice), await upload(alice)];
    const a = await connect(chat.wsA, alice);
    let b = await connect(chat.wsB, bob);

    // Live: the forward to an online peer carries the attachments.
    const ack = await sendOnWs(a, {
      conversationId: conversation,
      clientSeq: 1,
      body: 'look',
      attachments: [photo, clip],
    });
    expect(ack).toMatchObject({ type: 'ack', duplicate: false });
    const [live] = await b.waitForMessages(conversation, 1);
    expect(live).toMatchObject({ body: 'look', attachments: [photo, clip] });
    const wire = b.events.find((e) => e.type === 'message') as ServerEvent & ChatMessage;
    expect(wire.attachments).toEqual([photo, clip]);
    await a.waitFor((e) => e.type === 'receipt' && e.status === 'delivered');

    // Offline: stored in bob's pending rows, an attachment alone (empty body) over HTTP.
    await b.close();
    const sent = await post(
      chat.api,
      '/messages',
      { conversationId: conversation, clientSeq: 2, body: '', attachments: [clip] },
      bearer(alice),
    );
    expect(sent.status).toBe(201);
    const second = sent.json as Sent;
    expect(second).toMatchObject({ body: '', attachments: [clip], duplicate: false });
    expect(await pending(bob)).toEqual([withoutDup(second)]);
    b = await connect(chat.wsA, bob);
    // The first was acknowledged already: only the second is pending.
    expect(await b.waitForMessages(conversation, 1)).toEqual([withoutDup(second)]);
    await eventually(async () => expect(await pending(bob)).toEqual([]));

    // History and sync carry them; a message without any has an empty list.
    await sendOnWs(b, { conversationId: conversation, clientSeq: 1, body: 'nice' });
    const stored = await history(bob, conversation);
    expect(stored.map((m) => [m.body, m.attachments])).toEqual([
      ['look', [photo, clip]],
      ['', [clip]],
      ['nice', []],
    ]);
    const from = b.events.length;
    b.send({ type: 'sync', conversationId: conversation });
    await b.waitFor((e, i) => i >= from && e.type === 'synced');
    const synced = b.events.slice(from).filter((e) => e.type === 'message') as ChatMessage[];
    expect(synced.map((m) => m.attachments)).toEqual([[photo, clip], [clip], []]);

    // A resend with the same content is the same message; with other attachments, another.
    const resent = await post(
      chat.api,
      '/messages',
      { conversationId: conversation, clientSeq: 2, body: '', attachments: [clip] },
      bearer(alice),
    );
    expect(resent.status).toBe(200);
    expect(resent.json).toEqual({ ...second, duplicate: true });
    const other = await sendOnWs(a, {
      conversationId: conversation,
      clientSeq: 2,
      body: '',
      attachments: [photo],
    });
    expect(other).toMatchObject({ type: 'ack', duplicate: false });
    expect((other as { messageId: string }).messageId).not.toBe(second.messageId);

    // Knowing the id is enough: bob attaches the asset alice uploaded, and reads it.
    const forwarded = await sendOnWs(b, {
      conversationId: conversation,
      clientSeq: 2,
      body: 'fwd',
      attachments: [photo],
    });
    expect(forwarded).toMatchObject({ type: 'ack', duplicate: false });
    expect((await fetch(`${chat.api}/assets/${photo}`, { headers: bearer(bob) })).status).toBe(200);
    expect((await history(alice, conversation)).map((m) => m.attachments)).toEqual([
      [photo, clip],
      [clip],
      [],
      [photo],
      [photo],
    ]);
  });

  test('refused attachments store nothing, over WebSocket and HTTP', async () => {
    const [carol, dave] = await Promise.all([
      signUp(chat.api, unique('carol')),
      signUp(chat.api, unique('dave')),
    ]);
    const conversation = directConversationId(carol.userId, dave.userId);
    const photo = await upload(carol);
    const unknown = sha256(randomBytes(16));
    const c = await connect(chat.wsA, carol);

    const cases: [unknown, string, string][] = [
      [[photo, unknown], 'attachment_not_found', 'attachments.1'],
      [[photo, photo.toUpperCase()], 'invalid_event', 'attachments.1'],
      [['../../etc/passwd'], 'invalid_event', 'attachments.0'],
      [
        [photo, unknown, sha256(randomBytes(1)), sha256(randomBytes(2))],
        'invalid_event',
        'attachments',
      ],
      [[], 'invalid_event', 'body'],
    ];
    for (const [attachments, code, field] of cases) {
      const body = Array.isArray(attachments) && attachments.length === 0 ? '' : 'x';
      expect(
        await sendOnWs(c, { conversationId: conversation, clientSeq: 1, body, attachments }),
      ).toMatchObject({ type: 'error', code, field, clientSeq: 1 });
      const rest = await post(
        chat.api,
        '/messages',
        { conversationId: conversation, clientSeq: 1, body, attachments },
        bearer(carol),
      );
      expect(rest.status).toBe(400);
      expect(errorOf(rest.json)).toMatchObject({
        code: code === 'invalid_event' ? 'invalid_request' : code,
        field,
      });
    }
    // Into a group too.
    const group = await post(
      chat.api,
      '/groups',
      { name: 'g', members: [dave.userId] },
      bearer(carol),
    );
    const { id, conversationId } = group.json as { id: string; conversationId: string };
    const refused = await post(
      chat.api,
      `/groups/${id}/messages`,
      { clientSeq: 1, body: 'x', attachments: [unknown] },
      bearer(carol),
    );
    expect(refused.status).toBe(400);
    expect(errorOf(refused.json)).toMatchObject({
      code: 'attachment_not_found',
      field: 'attachments.0',
    });

    expect(await history(carol, conversation)).toEqual([]);
    expect(await history(carol, conversationId)).toEqual([]);
    expect(await pending(dave)).toEqual([]);
    // No claim was left either: the first accepted send with that number is a first.
    expect(
      await sendOnWs(c, {
        conversationId: conversation,
        clientSeq: 1,
        body: 'x',
        attachments: [photo],
      }),
    ).toMatchObject({ type: 'ack', duplicate: false });
  });

  test('a group message with attachments reaches members through the fan-out', async () => {
    const [erin, frank, gina] = await Promise.all([
      signUp(chat.api, unique('erin')),
      signUp(chat.api, unique('frank')),
      signUp(chat.api, unique('gina')),
    ]);
    const created = await post(
      chat.api,
      '/groups',
      { name: 'pics', members: [frank.userId, gina.userId] },
      bearer(erin),
    );
    const { id, conversationId } = created.json as { id: string; conversationId: string };
    const [photo, clip] = [await upload(erin), await upload(frank)];
    const f = await connect(chat.wsB, frank);
    const e = await connect(chat.wsA, erin);

    const sent = await post(
      chat.api,
      `/groups/${id}/messages`,
      { clientSeq: 1, body: '', attachments: [photo, clip] },
      bearer(erin),
    );
    expect(sent.status).toBe(201);
    expect(
      await sendOnWs(e, { conversationId, clientSeq: 2, body: 'and', attachments: [clip] }),
    ).toMatchObject({ type: 'ack', duplicate: false });

    // Live to frank, through the fan-out worker.
    const live = await f.waitForMessages(conversationId, 2);
    expect(live.map((m) => [m.body, m.attachments])).toEqual([
      ['', [photo, clip]],
      ['and', [clip]],
    ]);
    // Gina was offline: the fan-out wrote her pending rows with the attachments.
    await eventually(async () => expect(await pending(gina)).toHaveLength(2));
    const g = await connect(chat.wsA, gina);
    const pulled = await g.waitForMessages(conversationId, 2);
    expect(pulled.map((m) => m.attachments)).toEqual([[photo, clip], [clip]]);
    expect((await history(gina, conversationId)).map((m) => m.attachments)).toEqual([
      [photo, clip],
      [clip],
    ]);
  });
});

function withoutDup(message: Sent): ChatMessage {
  const rest: Partial<Sent> = { ...message };
  delete rest.duplicate;
  return rest as ChatMessage;
}
