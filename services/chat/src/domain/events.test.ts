import { clientEventSchema, firstIssue } from './events.ts';

const schema = clientEventSchema(100);
const id = '018c1c6a4b2000001a2b3c';

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
  ])('%j is refused, naming %s', (event, field) => {
    const parsed = schema.safeParse(event);
    expect(parsed.success).toBe(false);
    if (!parsed.success) expect(firstIssue(parsed.error).field).toBe(field);
  });
});
