import type { Logger } from '@platform/kit';
import { groupOf, peerOf } from './domain/conversation.ts';
import type { ChatMessage } from './domain/events.ts';
import { timeOfId, type TimeIdSource } from './domain/time-id.ts';
import { TtlCache } from './domain/ttl-cache.ts';
import { chatError } from './errors.ts';
import type { GroupMessageLog, Groups } from './groups.ts';
import type { ChatMetrics } from './metrics.ts';
import type { Router } from './router.ts';
import type { ConversationIndex } from './store/conversation-index.store.ts';
import type { UserRateLimits } from './rate-limits.ts';
import type { MessageStore, Receipt } from './store/message.store.ts';

export interface SendRequest {
  conversationId: string;
  clientSeq: number;
  body: string;
  /** Asset ids, each of a stored asset; none when absent. */
  attachments?: readonly string[];
}

/** What a send needs of the assets: that each id names one (see AssetService.requireAll). */
export interface AttachmentCheck {
  requireAll(assetIds: readonly string[], field: string): Promise<void>;
}

export interface SendOutcome {
  message: ChatMessage;
  duplicate: boolean;
}

/**
 * The data plane: persist first, then route. A send is stored (claim,
 * conversation, a 1:1 recipient's pending) before it is acknowledged; a 1:1
 * message is forwarded after that, a group message is put on the event log
 * before the ack for the fan-out worker. Acks update the stored state, then
 * tell the sender.
 */
export class MessageService {
  readonly #store: MessageStore;
  readonly #conversations: ConversationIndex;
  readonly #ids: TimeIdSource;
  readonly #router: Router;
  readonly #groups: Groups;
  readonly #groupLog: GroupMessageLog;
  readonly #groupReceiptsMax: number;
  readonly #users: { exists(id: string): Promise<boolean> };
  readonly #assets: AttachmentCheck;
  /** Whether a user id is a user; users are never deleted, so a yes stays true. */
  readonly #known = new TtlCache<boolean>({ ttlMs: 60_000 });
  readonly #limits: UserRateLimits | undefined;
  readonly #metrics: ChatMetrics;
  readonly #logger: Logger;

  constructor(deps: {
    store: MessageStore;
    conversations: ConversationIndex;
    ids: TimeIdSource;
    router: Router;
    groups: Groups;
    groupLog: GroupMessageLog;
    /** Groups up to this size get receipts and typing forwarded to members; larger ones none. */
    groupReceiptsMax: number;
    /** A 1:1 send's recipient must be a user. */
    users: { exists(id: string): Promise<boolean> };
    /** Every attachment must name a stored asset. */
    assets: AttachmentCheck;
    /** Each sender's budget of messages and group recipients; none: unlimited. */
    limits?: UserRateLimits;
    metrics: ChatMetrics;
    logger: Logger;
  }) {
    this.#store = deps.store;
    this.#conversations = deps.conversations;
    this.#ids = deps.ids;
    this.#router = deps.router;
    this.#groups = deps.groups;
    this.#groupLog = deps.groupLog;
    this.#groupReceiptsMax = deps.groupReceiptsMax;
    this.#users = deps.users;
    this.#assets = deps.assets;
    this.#limits = deps.limits;
    this.#metrics = deps.metrics;
    this.#logger = deps.logger;
  }

  /**
   * Stores a message once per (conversation, sender, clientSeq, body,
   * attachments); a resend gets the same ack. Each attachment must name a
   * stored asset (attachment_not_found, field `attachments.<i>`), checked before
   * anything is written. A group message is published to the fan-out topic before
   * this resolves, a resend publishes it again (the worker is idempotent), so
   * a crash between store and publish is repaired by the client's resend.
   * Past the sender's limits it throws RateLimited and stores nothing.
   */
  async send(sender: string, request: SendRequest): Promise<SendOutcome> {
    const { conversationId, clientSeq, body } = request;
    const attachments = [...(request.attachments ?? [])];
    const members = await this.#groups.requireMember(conversationId, sender);
    const group = groupOf(conversationId) !== undefined;
    // Before any message is written: a refused send stores nothing (a resend counts too).
    await this.#limits?.takeSend(sender, members.length - 1, group);
    const recipient = group ? undefined : peerOf(conversationId, sender);
    // Otherwise anyone could store pending rows for ids no one has, and be told 201.
    if (recipient && !(await this.#known.get(recipient, () => this.#users.exists(recipient)))) {
      throw chatError('user_not_found', { field: 'conversationId' });
    }
    await this.#assets.requireAll(attachments, 'attachments');

    const content = { body, attachments };
    const claim = await this.#store.claimSend(conversationId, sender, clientSeq, content, {
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
      attachments,
      sentAt: claim.sentAt,
    };
    if (!stored) await this.#store.write(message, recipient);
    // On resends too, so an index write lost to a crash is made up. The index
    // is of one-to-one conversations: their peers are the contacts presence tells.
    if (recipient) {
      await this.#conversations.record(conversationId, [sender, recipient], message.sentAt);
    }
    if (group) await this.#groupLog.publish(message);
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
    // Group messages went to the event log in send(); the fan-out worker routes them.
    if (groupOf(message.conversationId) !== undefined) return;
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
    const members = await this.#groups.requireMember(conversationId, user);
    // Pending without its conversation row when the sender's handler died between
    // the two writes and the sender never resent: delivered all the same.
    const held = await this.#store.pendingMessage(user, messageId);
    const message =
      held?.conversationId === conversationId
        ? held
        : await this.#requireMessage(conversationId, messageId);
    // A fan-out record delivered again must not re-create this pending row.
    if (groupOf(conversationId) !== undefined) await this.#store.markFanoutDone(messageId, [user]);
    await this.#store.removePending(user, messageId);
    if (held) {
      this.#metrics.delivered.inc();
      this.#metrics.sendToDeliver.observe(Math.max(0, Date.now() - timeOfId(messageId)) / 1000);
    }
    if (await this.#store.advance(conversationId, user, 'delivered', messageId)) {
      this.#receipt(members, user, message, 'delivered');
    }
  }

  async readAck(user: string, conversationId: string, messageId: string): Promise<void> {
    const members = await this.#groups.requireMember(conversationId, user);
    const message = await this.#requireMessage(conversationId, messageId);
    if (await this.#store.advance(conversationId, user, 'read', messageId)) {
      this.#receipt(members, user, message, 'read');
    }
  }

  /**
   * The acknowledged message, which must be one of the conversation's: a
   * made-up id (one from the future) would move the member's watermark past
   * messages not yet sent, and tell the sender so.
   */
  async #requireMessage(conversationId: string, messageId: string): Promise<ChatMessage> {
    const message = await this.#store.get(conversationId, messageId);
    if (!message) throw chatError('message_not_found', { field: 'messageId' });
    return message;
  }

  /**
   * Tells the sender a member moved its watermark: in 1:1 the peer; in a
   * group of at most groupReceiptsMax members the message's sender, one
   * receipt per member; in a larger group nobody (the watermarks are stored,
   * a sender reads them on demand rather than getting hundreds of events).
   */
  #receipt(
    members: string[],
    user: string,
    message: ChatMessage,
    status: 'delivered' | 'read',
  ): void {
    const { conversationId, messageId } = message;
    let to: string | undefined;
    if (groupOf(conversationId) === undefined) to = peerOf(conversationId, user);
    else if (members.length <= this.#groupReceiptsMax) to = message.sender;
    if (to === undefined || to === user) return;
    this.#router.bestEffort(to, {
      type: 'receipt',
      conversationId,
      messageId,
      userId: user,
      status,
    });
  }

  /** Who hears a member typing: the peer, the other members of a small group, or nobody. */
  async typingPeers(user: string, conversationId: string): Promise<string[]> {
    const members = await this.#groups.requireMember(conversationId, user);
    if (groupOf(conversationId) !== undefined && members.length > this.#groupReceiptsMax) return [];
    return members.filter((member) => member !== user);
  }

  async history(user: string, conversationId: string, after: string | undefined, limit: number) {
    await this.#groups.requireMember(conversationId, user);
    return this.#store.history(conversationId, after, limit);
  }

  pending(user: string, limit: number): Promise<ChatMessage[]> {
    return this.#store.pending(user, limit);
  }

  /** Each member's delivered and read watermarks, in member order (null: nothing acked yet). */
  async receipts(user: string, conversationId: string): Promise<Receipt[]> {
    const members = await this.#groups.requireMember(conversationId, user);
    const stored = new Map(
      (await this.#store.receipts(conversationId, members.length)).map((r) => [r.userId, r]),
    );
    return members.map(
      (userId) => stored.get(userId) ?? { userId, deliveredUpTo: null, readUpTo: null },
    );
  }
}
