import {
  consumerLagGauge,
  decodeEvent,
  type Infra,
  type Logger,
  type Metrics,
} from '@platform/kit';
import type { Directory } from './directory.ts';
import { groupOf } from './domain/conversation.ts';
import type { ChatMessage } from './domain/events.ts';
import { batchByHandler, forEachLimited, recipientsToDo } from './domain/fanout-plan.ts';
import { TIME_ID } from './domain/time-id.ts';
import {
  GROUP_MESSAGE_EVENT,
  GROUP_MESSAGE_VERSION,
  GROUP_TOPIC,
  type GroupMessageLog,
  type Groups,
} from './groups.ts';
import type { ChatMetrics } from './metrics.ts';
import type { Router } from './router.ts';
import type { MessageStore } from './store/message.store.ts';

export const FANOUT_GROUP = 'chat.fanout';
const LOOKUP_CONCURRENCY = 64;

export interface FanoutDeps {
  infra: Infra;
  groups: Groups;
  groupLog: GroupMessageLog;
  store: MessageStore;
  directory: Directory;
  router: Router;
  metrics: ChatMetrics;
  registry: Metrics;
  logger: Logger;
  /** The consumer stopped for good: the process should exit and be restarted. */
  onStopped?: (error: Error) => void;
}

/**
 * The group fan-out worker, a member of the consumer group FANOUT_GROUP on
 * the group-message topic. Per record, in the partition's order (so per
 * conversation): the members still to do, their pending rows, a mark per
 * (message, member), then one publish per destination handler with all its
 * users. Marks (also written by a member's delivery ack) make a redelivered
 * record skip members already handled: no pending row re-created after an
 * ack, no second delivery.
 */
export async function startFanout(deps: FanoutDeps): Promise<{ close(): Promise<void> }> {
  const { infra, logger } = deps;
  consumerLagGauge({
    name: 'chat_fanout_lag',
    help: 'Group-message records on the log not yet committed by the fan-out group.',
    registry: deps.registry.registry,
    eventLog: infra.eventLog,
    group: FANOUT_GROUP,
    topic: GROUP_TOPIC,
  });

  await deps.groupLog.ensureTopic();
  const subscription = await infra.eventLog.subscribe({
    group: FANOUT_GROUP,
    topics: [GROUP_TOPIC],
    ...(deps.onStopped ? { onStopped: deps.onStopped } : {}),
    handleBatch: async (batch) => {
      for (const record of batch.records) {
        const message = readGroupMessage(record);
        if (!message) {
          logger.warn({ offset: record.offset, partition: record.partition }, 'skipped record');
          continue;
        }
        await fanOut(deps, message);
      }
    },
  });
  return { close: () => subscription.close() };
}

/** Fans one stored group message out; safe to run again for the same message. */
export async function fanOut(
  deps: Pick<FanoutDeps, 'groups' | 'store' | 'directory' | 'router' | 'metrics' | 'logger'>,
  message: ChatMessage,
): Promise<void> {
  const { groups, store, directory, router, metrics, logger } = deps;
  const members = (await groups.groupMembers(groupOf(message.conversationId)!)) ?? [];
  const done = await store.fanoutDone(message.messageId, members.length + 1);
  const todo = recipientsToDo(members, message.sender, done);
  if (todo.length === 0) return;

  // Pending rows before the marks: a crash in between redoes the rows, never loses them.
  await store.writePending(message, todo);
  await store.markFanoutDone(message.messageId, todo);

  const handlersOf = new Map<string, string[]>();
  await forEachLimited(todo, LOOKUP_CONCURRENCY, async (user) => {
    handlersOf.set(user, await directory.handlersOf(user).catch(() => []));
  });
  const batches = batchByHandler(todo, handlersOf);
  const event = { type: 'message' as const, ...message };
  let deliveries = 0;
  await Promise.all(
    [...batches].map(async ([handler, users]) => {
      try {
        await router.toHandler(handler, users, event);
        metrics.fanoutBatches.inc();
        deliveries += users.length;
      } catch (error) {
        // The pending rows are written: the members' pending pull delivers it.
        logger.warn({ err: error, handler }, 'fan-out publish failed, left to the pending pull');
      }
    }),
  );
  metrics.fanoutDeliveries.inc(deliveries);
  metrics.fanoutSeconds.observe(Math.max(0, Date.now() - message.sentAt) / 1000);
}

/** The stored group message a record carries, or undefined when it is not one. */
export function readGroupMessage(record: { value: Buffer }): ChatMessage | undefined {
  try {
    const event = decodeEvent<Omit<ChatMessage, 'attachments'> & { attachments?: unknown }>(record);
    if (event.type !== GROUP_MESSAGE_EVENT || event.version !== GROUP_MESSAGE_VERSION) {
      return undefined;
    }
    const m = event.data;
    const valid =
      typeof m.conversationId === 'string' &&
      groupOf(m.conversationId) !== undefined &&
      typeof m.messageId === 'string' &&
      TIME_ID.test(m.messageId) &&
      typeof m.sender === 'string' &&
      typeof m.body === 'string' &&
      Number.isInteger(m.clientSeq) &&
      typeof m.sentAt === 'number' &&
      (m.attachments === undefined ||
        (Array.isArray(m.attachments) && m.attachments.every((id) => typeof id === 'string')));
    // Records published before messages had attachments carry none.
    return valid ? { ...m, attachments: (m.attachments as string[] | undefined) ?? [] } : undefined;
  } catch {
    return undefined;
  }
}
