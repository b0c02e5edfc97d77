import { hostname } from 'node:os';
import { z } from 'zod';
import { env, infraSchema, loadConfig, parseConfig, telemetrySchema } from '@platform/kit';

/** Public, so anyone can mint tokens with it: fine on a laptop, never in a deployment. */
export const DEFAULT_TOKEN_SECRET = 'embedded-development-chat-token-secret';

/** Every variable the chat processes read, validated once at start. */
export const configSchema = z.object({
  ...infraSchema.shape,
  ...telemetrySchema.shape,
  /** REST API and, on a handler, the WebSocket endpoint /ws. */
  PORT: env.port(8085),
  /** The handler admin contract (load, drain) for the rebalancing operator. */
  ADMIN_PORT: env.port(9121),
  /** This handler's name in the directory; unique among live handlers. */
  HANDLER_ID: z
    .string()
    .regex(/^[\w.-]{1,64}$/, 'expected 1-64 letters, digits, ".", "_" or "-"')
    .default(`${hostname()}-${process.pid}`.replace(/[^\w.-]/g, '-').slice(0, 64)),
  /** HS256 key shared by every process that signs or verifies session tokens. */
  TOKEN_SECRET: z.string().min(32, 'must be at least 32 characters').default(DEFAULT_TOKEN_SECRET),
  /** scrypt cost of new password hashes, log2 N (OWASP's floor is 17; tests use less). */
  PASSWORD_HASH_LOG_N: env.positiveInt(17).pipe(z.number().min(10).max(20)),
  /** Sign-ups and sign-ins per client and minute. */
  SIGN_IN_RATE_LIMIT: env.positiveInt(60),
  TOKEN_TTL_SECONDS: env.positiveInt(3600).pipe(z.number().max(30 * 86_400)),
  /** Origins a browser may open /ws from; clients sending no Origin are let in. */
  ALLOWED_ORIGINS: env.list().default(['http://localhost:8085', 'http://127.0.0.1:8085']),
  /** A peer that answers no ping within this is cut off. */
  HEARTBEAT_MS: env.positiveInt(30_000).pipe(z.number().min(100).max(600_000)),
  MAX_FRAME_BYTES: env.positiveInt(16_384).pipe(z.number().min(256).max(1_048_576)),
  MAX_BODY_CHARS: env.positiveInt(4_000).pipe(z.number().max(65_536)),
  /** Asset ids one message may carry (each an asset's SHA-256, 64 characters). */
  MAX_ATTACHMENTS: env.positiveInt(10).pipe(z.number().max(100)),
  /** Frames waiting in a connection's own queue before typing is dropped and then it is closed. */
  SEND_QUEUE_LIMIT: env.positiveInt(512).pipe(z.number().max(100_000)),
  /** Bytes the socket may hold unsent before the client counts as a slow consumer. */
  MAX_BUFFERED_BYTES: env.positiveInt(1_048_576),
  MAX_CONNECTIONS: env.positiveInt(20_000),
  /** Connections one user may hold on one handler; more are refused (429 at the upgrade). */
  MAX_CONNECTIONS_PER_USER: env.positiveInt(32).pipe(z.number().max(10_000)),
  /** Life of directory entries; live handlers refresh them every third of it. */
  DIRECTORY_TTL_MS: env.positiveInt(30_000).pipe(z.number().min(300).max(3_600_000)),
  /** How long a handler trusts a user → handlers lookup. */
  DIRECTORY_CACHE_MS: env.number(1_000).pipe(z.number().min(0).max(60_000)),
  /** How often each connection re-reads its user's pending messages (the watermark pull). */
  PENDING_PULL_MS: env.positiveInt(10_000).pipe(z.number().min(50).max(3_600_000)),
  /** At most one presence event per user to its contacts in this long; flapping is coalesced. */
  PRESENCE_FANOUT_MS: env.number(2_000).pipe(z.number().min(0).max(600_000)),
  /** A connected user's last-seen time is written at most this often. */
  LAST_SEEN_WRITE_MS: env.positiveInt(60_000).pipe(z.number().min(100).max(3_600_000)),
  /** Largest asset upload; a larger one is refused with 413. */
  MAX_ASSET_BYTES: env.positiveInt(10 * 1024 * 1024).pipe(z.number().max(1024 * 1024 * 1024)),
  /** Uploads one user may have in flight at once; each holds up to MAX_ASSET_BYTES in memory. */
  MAX_UPLOADS_PER_USER: env.positiveInt(4).pipe(z.number().max(1000)),
  /** Uploads a process reads at once: its upload memory is at most this many MAX_ASSET_BYTES. */
  MAX_UPLOADS_IN_FLIGHT: env.positiveInt(32).pipe(z.number().max(10_000)),
  /** Content types an asset may have. */
  ASSET_TYPES: env
    .list()
    .default([
      'image/jpeg',
      'image/png',
      'image/gif',
      'image/webp',
      'video/mp4',
      'audio/mpeg',
      'audio/ogg',
      'application/pdf',
    ]),
  /** Members of a group at most, its creator included. */
  MAX_GROUP_MEMBERS: env.positiveInt(500).pipe(z.number().min(2).max(10_000)),
  /** How long a process trusts a group's member list (members never change once created). */
  GROUP_CACHE_MS: env.number(5_000).pipe(z.number().min(0).max(600_000)),
  /** Groups up to this size send receipts to the sender and typing to members; larger ones not. */
  GROUP_RECEIPTS_MAX_MEMBERS: env.positiveInt(32).pipe(z.number().max(10_000)),
  /** The fixed window of the per-user limits below; counts live in the cache, shared by all. */
  RATE_LIMIT_WINDOW_MS: env.positiveInt(10_000).pipe(z.number().min(100).max(3_600_000)),
  /** Messages one user may send per window, 1:1 and group, over WebSocket and HTTP together. */
  SEND_RATE_LIMIT: env.positiveInt(200).pipe(z.number().max(1_000_000)),
  /** Group recipients one user's sends may reach per window (a send costs its members - 1). */
  GROUP_SEND_RATE_LIMIT: env.positiveInt(5_000).pipe(z.number().max(10_000_000)),
  /** Typing events one user may send per window; beyond, they are dropped. */
  TYPING_RATE_LIMIT: env.positiveInt(100).pipe(z.number().max(1_000_000)),
  /** Groups one user may create per window. */
  GROUP_CREATE_RATE_LIMIT: env.positiveInt(20).pipe(z.number().max(1_000_000)),
  /** Asset uploads one user may start per window. */
  UPLOAD_RATE_LIMIT: env.positiveInt(30).pipe(z.number().max(1_000_000)),
  /** On SIGTERM, connections are closed gradually over this long. */
  DRAIN_GRACE_MS: env.positiveInt(20_000).pipe(z.number().max(600_000)),
});

export type Config = z.infer<typeof configSchema>;

export function readConfig(environment: Record<string, string | undefined> = process.env): Config {
  return loadConfig(configSchema, environment);
}

/** Like readConfig, but a bad value throws instead of ending the process (for tests). */
export function parseChatConfig(environment: Record<string, string | undefined>): Config {
  return parseConfig(configSchema, environment);
}
