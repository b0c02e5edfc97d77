import type { Logger } from '@platform/kit';
import { isMember, membersOf, peerOf } from './domain/conversation.ts';
import type { ChatMessage } from './domain/events.ts';
import { timeOfId, type TimeIdSource } from './domain/time-id.ts';
import { chatError } from './errors.ts';
import type { ChatMetrics } from './metrics.ts';
import type { Router } from './router.ts';
import type { MessageStore } from './store/message.store.ts';

export interface SendRequest {
  conversationId: string;
  clientSeq: number;
  body: string;
}

export interface SendOutcome {
  message: ChatMessage;
  duplicate: boolean;
}

/**
 * The one-to-one data plane: persist first, then route. A send is stored
 * (claim, conversation, recipient's pending) before it is acknowledged, and
 * forwarded only after that; acks update the stored state, then tell the sender.
 */
export class MessageService {
  readonly #store: MessageStore;
  readonly #ids: TimeIdSource;
  readonly #router: Router;
  readonly #metrics: ChatMetrics;
  readonly #logger: Logger;

  constructor(deps: {
    store: MessageStore;
    ids: TimeIdSource;
    router: Router;
    metrics: ChatMetrics;
    logger: Logger;
  }) {
    this.#store = deps.store;
    this.#ids = deps.ids;
    this.#router = deps.router;
    this.#metrics = deps.metrics;
    this.#logger = deps.logger;
  }

  /** Stores a message once per (conversation, sender, clientSeq); a resend gets the same ack. */
  async send(sender: string, request: SendRequest): Promise<SendOutcome> {
    const { conversationId, clientSeq, body } = request;
    requireMember(conversationId, sender);
    const recipient = peerOf(conversationId, sender);

    const claim = await this.#store.claimSend(conversationId, sender, clientSeq, {
      messageId: this.#ids.next(),
      sentAt: Date.now(),
    });
    // A resend after a crash between the claim and the writes finds no message: write it now.
    const stored = claim.first ? undefined : await this.#store.get(conversationId, claim.messageId);
    const message = stored ?? {
      conversationId,
      messageId: claim.messageId,
      sender,
      clientSeq,
      body,
      sentAt: claim.sentAt,
    };
    if (!stored) await this.#store.write(message, recipient);
    if (claim.first) this.#metrics.sent.inc();
    else this.#metrics.duplicates.inc();

    return { message, duplicate: !claim.first };
  }

  /**
   * Routes a stored message to the recipient's handlers. Call it after the
   * ack, and await it before forwarding the sender's next message, so one
   * sender's messages are published in order. Forwarding a duplicate again
   * is harmless (receivers dedupe) and covers a lost first forward; a failure
   * is left to the pending pull.
   */
  async forward(message: ChatMessage): Promise<void> {
    const recipient = peerOf(message.conversationId, message.sender);
    try {
      await this.#router.toUser(recipient, { type: 'message', ...message });
    } catch (error) {
      this.#metrics.deliveries.error.inc();
      this.#logger.warn({ err: error }, 'forward failed, left to the pending pull');
    }
  }

  /** The recipient has the message: off its pending list, the watermark moves, the sender hears. */
  async deliveryAck(user: string, conversationId: string, messageId: string): Promise<void> {
    requireMember(conversationId, user);
    const wasPending = await this.#store.isPending(user, messageId);
    await this.#store.removePending(user, messageId);
    if (wasPending) {
      this.#metrics.delivered.inc();
      this.#metrics.sendToDeliver.observe(Math.max(0, Date.now() - timeOfId(messageId)) / 1000);
    }
    if (await this.#store.advance(conversationId, user, 'delivered', messageId)) {
      this.#router.bestEffort(peerOf(conversationId, user), {
        type: 'receipt',
        conversationId,
        messageId,
        userId: user,
        status: 'delivered',
      });
    }
  }

  async readAck(user: string, conversationId: string, messageId: string): Promise<void> {
    requireMember(conversationId, user);
    if (await this.#store.advance(conversationId, user, 'read', messageId)) {
      this.#router.bestEffort(peerOf(conversationId, user), {
        type: 'receipt',
        conversationId,
        messageId,
        userId: user,
        status: 'read',
      });
    }
  }

  async history(user: string, conversationId: string, after: string | undefined, limit: number) {
    requireMember(conversationId, user);
    return this.#store.history(conversationId, after, limit);
  }

  pending(user: string, limit: number): Promise<ChatMessage[]> {
    return this.#store.pending(user, limit);
  }

  receipts(user: string, conversationId: string) {
    requireMember(conversationId, user);
    return Promise.all(
      membersOf(conversationId)!.map((m) => this.#store.receipt(conversationId, m)),
    );
  }
}

/** Refuses a conversation the user is not in, or an id that is not a conversation. */
export function requireMember(conversationId: string, user: string): void {
  if (!membersOf(conversationId))
    throw chatError('invalid_conversation', { field: 'conversationId' });
  if (!isMember(conversationId, user)) throw chatError('not_a_member', { field: 'conversationId' });
}
