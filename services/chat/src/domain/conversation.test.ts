import {
  directConversationId,
  groupConversationId,
  groupOf,
  isMember,
  membersOf,
  peerOf,
} from './conversation.ts';

describe('one-to-one conversations', () => {
  test('the id is the same whoever starts it, and names its two members', () => {
    const id = directConversationId('bob', 'alice');
    expect(id).toBe(directConversationId('alice', 'bob'));
    expect(membersOf(id)).toEqual(['alice', 'bob']);
    expect(isMember(id, 'alice')).toBe(true);
    expect(isMember(id, 'mallory')).toBe(false);
    expect(peerOf(id, 'alice')).toBe('bob');
  });

  test('ids this system does not make have no members', () => {
    for (const id of ['dm-bob-alice', 'dm-alice', 'group-1', 'dm-a-b-c', 'dm-Al-bo', '']) {
      expect(membersOf(id)).toBeUndefined();
      expect(isMember(id, 'alice')).toBe(false);
    }
    expect(() => directConversationId('alice', 'alice')).toThrow();
    expect(() => directConversationId('alice', 'a-b')).toThrow();
  });
});

describe('group conversations', () => {
  test('grp-<id> names its group, and is not a one-to-one conversation', () => {
    const id = groupConversationId('0123456789abcdef');
    expect(id).toBe('grp-0123456789abcdef');
    expect(groupOf(id)).toBe('0123456789abcdef');
    expect(membersOf(id)).toBeUndefined();
    for (const other of [
      'grp-',
      'grp-0123',
      'grp-0123456789ABCDEF',
      'dm-a-b',
      'x-grp-0123456789abcdef',
    ]) {
      expect(groupOf(other)).toBeUndefined();
    }
    expect(() => groupConversationId('nope')).toThrow();
  });
});
