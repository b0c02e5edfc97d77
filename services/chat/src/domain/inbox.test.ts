import type { ChatMessage } from './events.ts';
import { Inbox } from './inbox.ts';

const message = (messageId: string, body = messageId): ChatMessage => ({
  conversationId: 'dm-a-b',
  messageId,
  sender: 'a',
  clientSeq: 1,
  body,
  attachments: [],
  sentAt: 0,
});

describe('the receiving inbox', () => {
  test('keeps one copy per message id and reads in server order', () => {
    const inbox = new Inbox();
    expect(inbox.add(message('0002'))).toBe(true);
    expect(inbox.add(message('0001'))).toBe(true);
    expect(inbox.add(message('0002', 'again'))).toBe(false);
    expect(inbox.conversation('dm-a-b').map((m) => m.body)).toEqual(['0001', '0002']);
    expect(inbox.watermark('dm-a-b')).toBe('0002');
    expect(inbox.watermark('dm-a-c')).toBeUndefined();
  });
});
