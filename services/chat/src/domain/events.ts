import { z } from 'zod';
import { TIME_ID } from './time-id.ts';

/**
 * Text that is stored: well-formed Unicode only. A lone surrogate (valid in
 * JSON's escapes) would be stored as U+FFFD while the ack and a live forward
 * still carry it, so one message would read two ways.
 */
export const storedText = () =>
  z.string().refine((value) => !/\p{Cs}/u.test(value), 'expected well-formed Unicode text');

const conversationId = z.string().min(1).max(80);
const messageId = z.string().regex(TIME_ID, 'expected a message id');

/**
 * What a client may send on /ws, one JSON object per text frame, checked on
 * arrival; unknown fields are refused so a typo is not silently ignored.
 */
export function clientEventSchema(maxBodyChars: number) {
  return z.discriminatedUnion(
    'type',
    [
      z.strictObject({
        type: z.literal('send_message'),
        conversationId,
        /** Per sender and conversation, from 1; a resend with the same number is a duplicate. */
        clientSeq: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
        body: storedText().min(1).max(maxBodyChars),
      }),
      z.strictObject({ type: z.literal('delivery_ack'), conversationId, messageId }),
      z.strictObject({ type: z.literal('read_ack'), conversationId, messageId }),
      z.strictObject({ type: z.literal('typing'), conversationId, typing: z.boolean() }),
      z.strictObject({
        type: z.literal('presence_update'),
        status: z.enum(['online', 'away']),
      }),
      /** The watermark pull: messages of a conversation after the last one the client has. */
      z.strictObject({
        type: z.literal('sync'),
        conversationId,
        after: messageId.optional(),
        limit: z.number().int().min(1).max(500).default(100),
      }),
    ],
    {
      message:
        'expected type send_message, delivery_ack, read_ack, typing, presence_update or sync',
    },
  );
}

export type ClientEvent = z.infer<ReturnType<typeof clientEventSchema>>;

/** A message as stored and as delivered. */
export interface ChatMessage {
  conversationId: string;
  messageId: string;
  sender: string;
  clientSeq: number;
  body: string;
  /** Epoch milliseconds when the server accepted it. */
  sentAt: number;
}

/** What the server sends on /ws. */
export type ServerEvent =
  | { type: 'ready'; handler: string; userId: string }
  | ({ type: 'ack'; duplicate: boolean } & Omit<ChatMessage, 'body' | 'sender'>)
  | ({ type: 'message' } & ChatMessage)
  | {
      type: 'receipt';
      conversationId: string;
      messageId: string;
      userId: string;
      status: 'delivered' | 'read';
    }
  | { type: 'typing'; conversationId: string; userId: string; typing: boolean }
  | {
      type: 'presence';
      userId: string;
      status: 'online' | 'away' | 'offline';
      lastSeen: number | null;
    }
  | { type: 'synced'; conversationId: string; last: string | null }
  | {
      type: 'error';
      code: string;
      message: string;
      field?: string;
      clientSeq?: number;
      /** With code rate_limited: when the window that refused it ends. */
      retryAfterMs?: number;
    };

export const CLIENT_EVENT_TYPES: ReadonlySet<string> = new Set([
  'send_message',
  'delivery_ack',
  'read_ack',
  'typing',
  'presence_update',
  'sync',
]);

/** The first problem of a parse, as the field it names (an unknown one included) and a message. */
export function firstIssue(error: z.ZodError): { field: string; message: string } {
  const issue = error.issues[0]!;
  const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
  return { field: path.join('.') || 'type', message: issue.message };
}
