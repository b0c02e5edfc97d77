import { randomBytes } from 'node:crypto';
import { encodeEvent, envelope, type EventLog } from '@platform/kit';
import { GROUP_ID, groupConversationId, groupOf, membersOf } from './domain/conversation.ts';
import type { ChatMessage } from './domain/events.ts';
import { TtlCache } from './domain/ttl-cache.ts';
import { chatError } from './errors.ts';
import type { Group, GroupStore } from './store/group.store.ts';

/** Group messages on the event log, keyed by conversation id so each conversation keeps order. */
export const GROUP_TOPIC = 'chat.group-messages';
export const GROUP_TOPIC_PARTITIONS = 6;
export const GROUP_MESSAGE_EVENT = 'chat.group_message';
export const GROUP_MESSAGE_VERSION = 1;

export interface GroupView {
  id: string;
  name: string;
  conversationId: string;
  members: string[];
}

/**
 * Groups: created with their members (MySQL), and membership of any
 * conversation: a 1:1 conversation names its two members, a group's come
 * from the store, cached per process for cacheMs (members never change once
 * a group exists, so the cache is never wrong, only how long an unknown group
 * stays unknown).
 */
export class Groups {
  readonly #store: GroupStore;
  readonly #maxMembers: number;
  readonly #members: TtlCache<string[] | undefined>;

  constructor(options: { store: GroupStore; maxMembers: number; cacheMs: number }) {
    this.#store = options.store;
    this.#maxMembers = options.maxMembers;
    this.#members = new TtlCache({ ttlMs: options.cacheMs });
  }

  /** Creates a group of the creator and these users (each once). */
  async create(creator: string, name: string, members: string[]): Promise<GroupView> {
    const all = [...new Set([creator, ...members])].sort();
    if (all.length > this.#maxMembers) {
      throw chatError('too_many_members', {
        field: 'members',
        message: `a group has at most ${this.#maxMembers} members, the creator included`,
      });
    }
    const unknown = await this.#store.unknownUsers(all.filter((user) => user !== creator));
    if (unknown.length > 0) {
      throw chatError('unknown_users', {
        field: 'members',
        message: `not users: ${unknown.slice(0, 10).join(', ')}${unknown.length > 10 ? ', ...' : ''}`,
      });
    }
    const group: Group = {
      id: randomBytes(8).toString('hex'),
      name,
      createdBy: creator,
      createdAt: Date.now(),
      members: all,
    };
    await this.#store.create(group);
    return view(group);
  }

  /** A group, for its members only. */
  async get(user: string, groupId: string): Promise<GroupView> {
    const group = GROUP_ID.test(groupId) ? await this.#store.get(groupId) : undefined;
    if (!group) throw chatError('group_not_found', { field: 'id' });
    if (!group.members.includes(user)) throw chatError('not_a_member', { field: 'id' });
    return view(group);
  }

  /** A group's members (cached), or undefined for an unknown group. */
  groupMembers(groupId: string): Promise<string[] | undefined> {
    return this.#members.get(groupId, async () => {
      const members = await this.#store.members(groupId);
      return members.length > 0 ? members : undefined;
    });
  }

  /**
   * The members of a conversation the user is in; refuses an id that is no
   * conversation (400), an unknown group (404) and a non-member (403).
   */
  async requireMember(conversationId: string, user: string): Promise<string[]> {
    const groupId = groupOf(conversationId);
    const members =
      groupId === undefined ? membersOf(conversationId) : await this.groupMembers(groupId);
    if (!members) {
      throw chatError(groupId === undefined ? 'invalid_conversation' : 'group_not_found', {
        field: 'conversationId',
      });
    }
    if (!members.includes(user)) throw chatError('not_a_member', { field: 'conversationId' });
    return members;
  }
}

function view(group: Group): GroupView {
  return {
    id: group.id,
    name: group.name,
    conversationId: groupConversationId(group.id),
    members: group.members,
  };
}

/** Publishes stored group messages for the fan-out worker; creates the topic on first use. */
export class GroupMessageLog {
  readonly #eventLog: EventLog;
  #topic: Promise<void> | undefined;

  constructor(eventLog: EventLog) {
    this.#eventLog = eventLog;
  }

  ensureTopic(): Promise<void> {
    this.#topic ??= this.#eventLog
      .createTopic(GROUP_TOPIC, { partitions: GROUP_TOPIC_PARTITIONS })
      .catch((error: unknown) => {
        this.#topic = undefined;
        throw error;
      });
    return this.#topic;
  }

  /** Resolves once the record is durably on the log. */
  async publish(message: ChatMessage): Promise<void> {
    await this.ensureTopic();
    const event = envelope(
      GROUP_MESSAGE_EVENT,
      GROUP_MESSAGE_VERSION,
      message.conversationId,
      message,
    );
    await this.#eventLog.publish(GROUP_TOPIC, [encodeEvent(event)]);
  }
}
