import type { ChatMessage } from './events.ts';

/**
 * The receiving side of at-least-once delivery: messages may come twice (a
 * live forward and a pending pull) and out of order across those paths. The
 * inbox keeps one copy per message id, reads each conversation in id order,
 * and knows the watermark to ask for on a sync.
 */
export class Inbox {
  readonly #byConversation = new Map<string, Map<string, ChatMessage>>();

  /** Adds a message; false when it was already there. */
  add(message: ChatMessage): boolean {
    let messages = this.#byConversation.get(message.conversationId);
    if (!messages) this.#byConversation.set(message.conversationId, (messages = new Map()));
    if (messages.has(message.messageId)) return false;
    messages.set(message.messageId, message);
    return true;
  }

  /** A conversation's messages in server order. */
  conversation(conversationId: string): ChatMessage[] {
    const messages = [...(this.#byConversation.get(conversationId)?.values() ?? [])];
    return messages.sort((a, b) => (a.messageId < b.messageId ? -1 : 1));
  }

  /** The last message id held, the `after` of a sync. */
  watermark(conversationId: string): string | undefined {
    return this.conversation(conversationId).at(-1)?.messageId;
  }
}
