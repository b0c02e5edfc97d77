import { clientEventSchema, firstIssue } from './events.ts';

const schema = clientEventSchema({ maxBodyChars: 100, maxAttachments: 2 });
const id = '018c1c6a4b2000001a2b3c';
const asset = (n: number) => n.toString(16).padStart(64, 'a');
const send = (fields: Record<string, unknown>) => ({
  type: 'send_message',
  conversationId: 'dm-a-b',
  clientSeq: 1,
  ...fields,
});

describe('client events', () => {
  test.each([
    { type: 'send_message', conversationId: 'dm-a-b', clientSeq: 1, body: 'hi' },
    { type: 'delivery_ack', conversationId: 'dm-a-b', messageId: id },
    { type: 'read_ack', conversationId: 'dm-a-b', messageId: id },
    { type: 'typing', conversationId: 'dm-a-b', typing: true },
    { type: 'presence_update', status: 'away' },
    { type: 'sync', conversationId: 'dm-a-b', after: id },
  ])('$type is accepted', (event) => {
    expect(schema.safeParse(event).success).toBe(true);
  });

  test.each([
    [{ type: 'shout' }, 'type'],
    [{ conversationId: 'dm-a-b' }, 'type'],
    [{ type: 'send_message', conversationId: 'dm-a-b', clientSeq: 0, body: 'hi' }, 'clientSeq'],
    [{ type: 'send_message', conversationId: 'dm-a-b', clientSeq: 1.5, body: 'hi' }, 'clientSeq'],
    [{ type: 'send_message', conversationId: 'dm-a-b', clientSeq: 1, body: '' }, 'body'],
    [
      { type: 'send_message', conversationId: 'dm-a-b', clientSeq: 1, body: 'x'.repeat(101) },
      'body',
    ],
    [
      { type: 'send_message', conversationId: 'dm-a-b', clientSeq: 1, body: 'hi', extra: 1 },
      'extra',
    ],
    [{ type: 'delivery_ack', conversationId: 'dm-a-b', messageId: 'nope' }, 'messageId'],
    [{ type: 'typing', conversationId: 'dm-a-b', typing: 'yes' }, 'typing'],
    [{ type: 'presence_update', status: 'invisible' }, 'status'],
    // Attachments: asset ids (SHA-256 hex), at most maxAttachments, each once.
    [send({ body: '', attachments: [] }), 'body'],
    [send({ body: 'hi', attachments: ['not-a-hash'] }), 'attachments.0'],
    [send({ body: 'hi', attachments: [asset(1), asset(2).toUpperCase()] }), 'attachments.1'],
    [send({ body: 'hi', attachments: [asset(1), `${asset(2)}0`] }), 'attachments.1'],
    [send({ body: 'hi', attachments: [asset(1), asset(2), asset(3)] }), 'attachments'],
    [send({ body: 'hi', attachments: [asset(1), asset(1)] }), 'attachments.1'],
    [send({ body: 'hi', attachments: asset(1) }), 'attachments'],
  ])('%j is refused, naming %s', (event, field) => {
    const parsed = schema.safeParse(event);
    expect(parsed.success).toBe(false);
    if (!parsed.success) expect(firstIssue(parsed.error).field).toBe(field);
  });
});

describe('send_message attachments', () => {
  test('a message may be its attachments alone, or a body with them', () => {
    const alone = schema.parse(send({ body: '', attachments: [asset(1), asset(2)] }));
    expect(alone).toMatchObject({ body: '', attachments: [asset(1), asset(2)] });
    expect(schema.parse(send({ body: 'look', attachments: [asset(1)] }))).toMatchObject({
      body: 'look',
      attachments: [asset(1)],
    });
  });

  test('a message without the field has none', () => {
    expect(schema.parse(send({ body: 'hi' }))).toMatchObject({ attachments: [] });
  });

  test('the limit is the one configured', () => {
    const wider = clientEventSchema({ maxBodyChars: 100, maxAttachments: 3 });
    expect(wider.safeParse(send({ body: '', attachments: [1, 2, 3].map(asset) })).success).toBe(
      true,
    );
    expect(wider.safeParse(send({ body: '', attachments: [1, 2, 3, 4].map(asset) })).success).toBe(
      false,
    );
  });
});
