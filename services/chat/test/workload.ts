import { randomBytes } from 'node:crypto';
import { MysqlRelational } from '@platform/kit';
import { Tokens } from '../src/auth.ts';
import { directConversationId } from '../src/domain/conversation.ts';
import { post } from './client.ts';
import {
  HandlerService,
  inBatches,
  ReconnectingClient,
  type Backoff,
} from './reconnecting-client.ts';
import { UserStore } from '../src/store/user.store.ts';
import { TEST_SECRET } from './system.ts';

/**
 * The large tests' workload: many clients, grouped into conversations of
 * some kind, each member sending messages; then a check that every
 * acknowledged message reached every other member once and in order. A kind
 * of conversation is a function from clients to conversations
 * (`directConversations`, `groupConversations`); sending and checking work
 * on any kind.
 */
export interface Conversation {
  id: string;
  members: ReconnectingClient[];
}

/**
 * Clients with made-up user ids and tokens signed with the test secret: the
 * WebSocket plane needs no user rows, and signing 2,000 users up through the
 * REST API would cost the test more than the messages do.
 */
export async function makeClients(
  count: number,
  service: HandlerService,
  backoff?: Backoff,
): Promise<ReconnectingClient[]> {
  const tokens = new Tokens(TEST_SECRET, 3600);
  const run = randomBytes(3).toString('hex');
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const userId = `u${run}${i.toString(36).padStart(4, '0')}`;
      const { token } = await tokens.issue(userId);
      return new ReconnectingClient(userId, token, service, backoff);
    }),
  );
}

/** One-to-one conversations of clients two by two: (0, 1), (2, 3), ... */
export function directConversations(clients: ReconnectingClient[]): Conversation[] {
  const conversations: Conversation[] = [];
  for (let i = 0; i + 1 < clients.length; i += 2) {
    const members = [clients[i]!, clients[i + 1]!];
    const id = directConversationId(members[0]!.userId, members[1]!.userId);
    for (const member of members) member.join(id);
    conversations.push({ id, members });
  }
  return conversations;
}

/**
 * Writes a user row for each client straight into the system's MySQL
 * database: the clients' ids are made up, and a one-to-one send or a group
 * needs its members to be users. Faster than signing 2,000 users up.
 */
export async function registerUsers(clients: ReconnectingClient[], mysqlUrl: string) {
  const db = new MysqlRelational(mysqlUrl, { connectionLimit: 8 });
  try {
    const users = new UserStore(db);
    await inBatches(clients, 50, (client) =>
      users.create({
        id: client.userId,
        name: client.userId,
        passwordHash: 'none: signs in with a test token',
        createdAt: Date.now(),
      }),
    );
  } finally {
    await db.close();
  }
}

/** Groups of `size` registered clients each, created through the REST API by their first member. */
export async function groupConversations(
  clients: ReconnectingClient[],
  size: number,
  apiUrl: string,
): Promise<Conversation[]> {
  const conversations: Conversation[] = [];
  for (let i = 0; i + size <= clients.length; i += size) {
    const members = clients.slice(i, i + size);
    const created = await post(
      apiUrl,
      '/groups',
      { name: `load ${i / size}`, members: members.slice(1).map((m) => m.userId) },
      { authorization: `Bearer ${members[0]!.token}` },
    );
    if (created.status !== 201) throw new Error(`group not created: ${created.text}`);
    const { conversationId } = created.json as { conversationId: string };
    for (const member of members) member.join(conversationId);
    conversations.push({ id: conversationId, members });
  }
  return conversations;
}

/** Every member of every conversation sends one message, without waiting for acks. */
export function sendRound(conversations: Conversation[], round: number): void {
  for (const conversation of conversations) {
    for (const member of conversation.members) {
      member.send(conversation.id, `round ${round} from ${member.userId}`);
    }
  }
}

export interface DeliveryReport {
  /** Messages sent and not (yet) acknowledged. */
  unacked: number;
  /** Acknowledged messages some other member does not hold. */
  lost: number;
  /** Messages a member holds twice under different ids (the same sender and clientSeq). */
  duplicates: number;
  /** Messages a member holds that no sender had acknowledged. */
  unknown: number;
  /** Conversations where a member sees some sender's messages out of clientSeq order. */
  outOfOrder: number;
  /** Message frames received in all, duplicates included; others' acknowledged messages held. */
  framesReceived: number;
  held: number;
  /** Error events the clients got, and `internal` ones among them (transient, retried). */
  errors: number;
  internalErrors: number;
  example?: string;
}

/** What every member holds against what every other member had acknowledged. */
export function deliveryReport(conversations: Conversation[]): DeliveryReport {
  const report: DeliveryReport = {
    unacked: 0,
    lost: 0,
    duplicates: 0,
    unknown: 0,
    outOfOrder: 0,
    framesReceived: 0,
    held: 0,
    errors: 0,
    internalErrors: 0,
  };
  const clients = new Set(conversations.flatMap((c) => c.members));
  for (const client of clients) {
    report.unacked += client.unacked;
    report.framesReceived += client.received;
    report.errors += client.errors.length;
    report.internalErrors += client.internalErrors;
    if (client.errors[0]) report.example ??= JSON.stringify(client.errors[0]);
  }

  for (const { id, members } of conversations) {
    const acked = new Map<string, string>();
    for (const sender of members) {
      for (const m of sender.outgoing) {
        if (m.conversationId === id && m.ack) {
          acked.set(m.ack.messageId, `${sender.userId}:${m.clientSeq}`);
        }
      }
    }
    for (const member of members) {
      // A sync after a reconnect brings the member's own messages too: shown, not counted as held.
      const shown = member.inbox.conversation(id);
      const held = new Set(shown.map((m) => m.messageId));
      for (const [messageId, key] of acked) {
        if (key.startsWith(`${member.userId}:`)) continue;
        if (held.has(messageId)) report.held++;
        else {
          report.lost++;
          report.example ??= `${member.userId} lacks ${messageId} in ${id}`;
        }
      }
      const sendKeys = new Set<string>();
      const lastSeq = new Map<string, number>();
      let ordered = true;
      for (const m of shown) {
        const key = `${m.sender}:${m.clientSeq}`;
        if (sendKeys.has(key)) report.duplicates++;
        sendKeys.add(key);
        if (acked.get(m.messageId) !== key) report.unknown++;
        if (m.clientSeq <= (lastSeq.get(m.sender) ?? 0)) ordered = false;
        lastSeq.set(m.sender, m.clientSeq);
      }
      if (!ordered) report.outOfOrder++;
    }
  }
  return report;
}

/** Polls until check() holds, or throws naming what did not happen. */
export async function until(
  what: string,
  timeoutMs: number,
  check: () => boolean | Promise<boolean>,
  detail: () => unknown = () => '',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(detail())}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The p-quantile (0-1) of some numbers, nearest rank. */
export function quantile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}
