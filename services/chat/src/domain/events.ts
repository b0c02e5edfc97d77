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

/** An asset id: the SHA-256 of its bytes, in lower-case hex. */
export const ASSET_ID = /^[0-9a-f]{64}$/;

export interface SendLimits {
  maxBodyChars: number;
  /** Asset ids one message may carry. */
  maxAttachments: number;
}

/**
 * The fields of a send, on /ws (`send_message`) and the REST send routes
 * alike: a body, asset ids as attachments, or both. Check the object with
 * `checkSend`: a message with neither is refused, so is an id attached twice.
 */
export function sendFields(limits: SendLimits) {
  return {
    /** Per sender and conversation, from 1; a resend with the same number is a duplicate. */
    clientSeq: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    /** May be empty when the message has attachments. */
    body: storedText().max(limits.maxBodyChars),
    attachments: z
      .array(z.string().regex(ASSET_ID, 'expected an asset id (a SHA-256 in lower-case hex)'))
      .max(limits.maxAttachments, `at most ${limits.maxAttachments} attachments`)
      .default([]),
  };
}

/** What a send's fields must satisfy together (see sendFields). */
export function checkSend(
  send: { body: string; attachments: string[] },
  context: z.RefinementCtx,
): void {
  if (send.body === '' && send.attachments.length === 0) {
    context.addIssue({
      code: 'custom',
      path: ['body'],
      message: 'a message needs a body or attachments',
    });
  }
  send.attachments.forEach((id, index) => {
    if (send.attachments.indexOf(id) !== index) {
      context.addIssue({ code: 'custom', path: ['attachments', index], message: 'attached twice' });
    }
  });
}

/**
 * What a client may send on /ws, one JSON object per text frame, checked on
 * arrival; unknown fields are refused so a typo is not silently ignored.
 */
export function clientEventSchema(limits: SendLimits) {
  return z.discriminatedUnion(
    'type',
    [
      z
        .strictObject({ type: z.literal('send_message'), conversationId, ...sendFields(limits) })
        .superRefine(checkSend),
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
  /** Empty when the message is its attachments alone. */
  body: string;
  /** Asset ids (GET /assets/{id}), in the sender's order; none: empty. */
  attachments: string[];
  /** Epoch milliseconds when the server accepted it. */
  sentAt: number;
}

/** What the server sends on /ws. */
export type ServerEvent =
  | { type: 'ready'; handler: string; userId: string }
  | ({ type: 'ack'; duplicate: boolean } & Omit<ChatMessage, 'body' | 'sender' | 'attachments'>)
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
