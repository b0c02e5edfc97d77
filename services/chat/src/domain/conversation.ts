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
