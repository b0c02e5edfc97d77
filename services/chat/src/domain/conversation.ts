/** User ids are what the user service makes: lower-case letters and digits. */
export const USER_ID = /^[0-9a-z]{1,32}$/;

const DIRECT = /^dm-([0-9a-z]{1,32})-([0-9a-z]{1,32})$/;

/** The one-to-one conversation of two users: `dm-<smaller id>-<larger id>`. */
export function directConversationId(a: string, b: string): string {
  if (!USER_ID.test(a) || !USER_ID.test(b)) throw new Error('not a user id');
  if (a === b) throw new Error('a conversation needs two users');
  return a < b ? `dm-${a}-${b}` : `dm-${b}-${a}`;
}

/** The members of a conversation, or undefined when the id is not one this system makes. */
export function membersOf(conversationId: string): [string, string] | undefined {
  const match = DIRECT.exec(conversationId);
  if (!match) return undefined;
  const [, a, b] = match as unknown as [string, string, string];
  return a < b ? [a, b] : undefined;
}

export function isMember(conversationId: string, userId: string): boolean {
  return membersOf(conversationId)?.includes(userId) ?? false;
}

/** The member who is not userId (assumes userId is a member). */
export function peerOf(conversationId: string, userId: string): string {
  const [a, b] = membersOf(conversationId)!;
  return a === userId ? b : a;
}

/** Group ids are made like user ids: lower-case hex. */
export const GROUP_ID = /^[0-9a-f]{16}$/;
const GROUP = /^grp-([0-9a-f]{16})$/;

/** A group's conversation: `grp-<group id>`. */
export function groupConversationId(groupId: string): string {
  if (!GROUP_ID.test(groupId)) throw new Error('not a group id');
  return `grp-${groupId}`;
}

/** The group a conversation id names, or undefined when it is not a group conversation. */
export function groupOf(conversationId: string): string | undefined {
  return GROUP.exec(conversationId)?.[1];
}
