import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { z } from 'zod';
import { clientRateLimit, idempotency, parseInput, type Cache, type HttpApp } from '@platform/kit';
import type { AssetService } from './assets.ts';
import { bearerToken, type Tokens } from './auth.ts';
import {
  directConversationId,
  groupConversationId,
  GROUP_ID,
  USER_ID,
} from './domain/conversation.ts';
import { checkSend, sendFields, storedText } from './domain/events.ts';
import { hashPassword, verifyPassword } from './domain/password.ts';
import { TIME_ID } from './domain/time-id.ts';
import { chatError } from './errors.ts';
import type { Groups } from './groups.ts';
import type { MessageService } from './messages.ts';
import type { PresenceService } from './presence.ts';
import {
  RateLimited,
  retryAfterSeconds,
  type RateLimitKind,
  type UserRateLimits,
} from './rate-limits.ts';
import type { ConversationIndex } from './store/conversation-index.store.ts';
import { NameTaken, type UserStore } from './store/user.store.ts';

/** Uploads: their bodies are raw bytes, which the HTTP app leaves unread for the route. */
export const ASSETS_PATH = '/assets';

const credentials = z.strictObject({
  name: z.string().regex(/^[\w.-]{1,64}$/, 'expected 1-64 letters, digits, ".", "_" or "-"'),
  password: z.string().min(8, 'must be at least 8 characters').max(256),
});

const historyQuery = z.object({
  after: z.string().regex(TIME_ID, 'expected a message id').optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

const groupBody = z.strictObject({
  name: storedText().trim().min(1, 'must not be empty').max(100),
  members: z.array(z.string().regex(USER_ID, 'expected user ids')).max(10_000),
});

const pendingQuery = z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) });
const conversationsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

export interface ApiDeps {
  users: UserStore;
  tokens: Tokens;
  messages: MessageService;
  presence: PresenceService;
  conversations: ConversationIndex;
  assets: AssetService;
  groups: Groups;
  cache: Cache;
  /** Per-user budgets of group creations and uploads (sends: the message service's). */
  limits: UserRateLimits;
  passwordLogN: number;
  signInRateLimit: number;
  maxBodyChars: number;
  maxAttachments: number;
}

declare module 'express-serve-static-core' {
  interface Locals {
    userId: string;
  }
}

/** The REST API: users, sessions, groups, sending and reading messages. */
export function addApiRoutes(http: HttpApp, deps: ApiDeps): void {
  const { app } = http;
  const { users, tokens, messages, groups, presence, conversations, assets, cache } = deps;
  const fields = sendFields(deps);
  const groupSendBody = z.strictObject(fields).superRefine(checkSend);
  const sendBody = z
    .strictObject({ conversationId: z.string().min(1).max(80), ...fields })
    .superRefine(checkSend);

  const authenticated: RequestHandler = async (req, res, next) => {
    const token = req.headers.authorization === undefined ? undefined : bearerToken(req);
    const user = token === undefined ? undefined : await tokens.verify(token);
    if (user === undefined) return next(chatError('unauthenticated'));
    res.locals.userId = user;
    next();
  };
  /**
   * Idempotency-Key replay per caller: a key is only ever the caller's own, so
   * two users who number and key their sends alike (both peers' first message)
   * are two sends, and nobody can replay or block another user's key.
   */
  const callersIdempotency =
    (scope: string): RequestHandler =>
    (req, res, next) =>
      idempotency({ cache, scope: `${scope}:${res.locals.userId}` })(req, res, next);
  const signInLimit = clientRateLimit({
    cache,
    name: 'chat-sign-in',
    limit: deps.signInRateLimit,
    windowMs: 60_000,
  });

  /** Takes one from the caller's budget of this kind (429 past it). */
  const perUser =
    (kind: RateLimitKind): RequestHandler =>
    async (_req, res, next) => {
      await deps.limits.take(kind, res.locals.userId);
      next();
    };

  app.post('/users', signInLimit, async (req, res) => {
    const body = parseInput(credentials, req.body);
    const user = {
      id: randomBytes(8).toString('hex'),
      name: body.name,
      passwordHash: await hashPassword(body.password, deps.passwordLogN),
      createdAt: Date.now(),
    };
    try {
      await users.create(user);
    } catch (error) {
      if (error instanceof NameTaken) throw chatError('name_taken', { field: 'name' });
      throw error;
    }
    res.status(201).json({ id: user.id, name: user.name });
  });

  app.post('/sessions', signInLimit, async (req, res) => {
    const body = parseInput(credentials, req.body);
    const user = await users.byName(body.name);
    if (!user || !(await verifyPassword(body.password, user.passwordHash))) {
      throw chatError('bad_credentials');
    }
    res.status(201).json({ userId: user.id, ...(await tokens.issue(user.id)) });
  });

  /** The id of the one-to-one conversation with another user. */
  app.get('/conversations/direct/:userId', authenticated, async (req, res) => {
    const other = String(req.params.userId);
    if (!USER_ID.test(other) || other === res.locals.userId || !(await users.exists(other))) {
      throw chatError('user_not_found', { field: 'userId' });
    }
    res.json({ conversationId: directConversationId(res.locals.userId, other) });
  });

  app.post('/messages', authenticated, callersIdempotency('chat:messages'), async (req, res) => {
    const body = parseInput(sendBody, req.body);
    const { message, duplicate } = await messages.send(res.locals.userId, body);
    res.status(duplicate ? 200 : 201).json({ ...message, duplicate });
    void messages.forward(message);
  });

  /** A group of the caller and these users; the caller is always a member. */
  app.post('/groups', authenticated, perUser('group_create'), async (req, res) => {
    const body = parseInput(groupBody, req.body);
    res.status(201).json(await groups.create(res.locals.userId, body.name, body.members));
  });

  app.get('/groups/:id', authenticated, async (req, res) => {
    res.json(await groups.get(res.locals.userId, String(req.params.id)));
  });

  /** Sending into a group: stored, on the fan-out topic, then answered; idempotent by clientSeq. */
  app.post(
    '/groups/:id/messages',
    authenticated,
    callersIdempotency('chat:group-messages'),
    async (req, res) => {
      const id = String(req.params.id);
      if (!GROUP_ID.test(id)) throw chatError('group_not_found', { field: 'id' });
      const body = parseInput(groupSendBody, req.body);
      const { message, duplicate } = await messages.send(res.locals.userId, {
        ...body,
        conversationId: groupConversationId(id),
      });
      res.status(duplicate ? 200 : 201).json({ ...message, duplicate });
    },
  );

  app.get('/conversations/:id/messages', authenticated, async (req, res) => {
    const query = parseInput(historyQuery, req.query, 'query');
    const page = await messages.history(
      res.locals.userId,
      String(req.params.id),
      query.after,
      query.limit,
    );
    const next = page.length === query.limit ? page.at(-1)!.messageId : null;
    res.json({ messages: page, next });
  });

  /** Every member's delivered and read watermarks: how a large group's sender sees receipts. */
  app.get('/conversations/:id/receipts', authenticated, async (req, res) => {
    res.json({ receipts: await messages.receipts(res.locals.userId, String(req.params.id)) });
  });

  app.get('/users/:id/pending', authenticated, async (req, res) => {
    if (req.params.id !== res.locals.userId) throw chatError('forbidden', { field: 'id' });
    const query = parseInput(pendingQuery, req.query, 'query');
    res.json({ messages: await messages.pending(res.locals.userId, query.limit) });
  });

  app.get('/users/:id/presence', authenticated, async (req, res) => {
    const user = String(req.params.id);
    if (!USER_ID.test(user)) throw chatError('user_not_found', { field: 'id' });
    res.json(await presence.of(user));
  });

  /** The caller's own conversations, by conversation id. */
  app.get('/users/:id/conversations', authenticated, async (req, res) => {
    if (req.params.id !== res.locals.userId) throw chatError('forbidden', { field: 'id' });
    const query = parseInput(conversationsQuery, req.query, 'query');
    res.json({ conversations: await conversations.of(res.locals.userId, query.limit) });
  });

  app.post(ASSETS_PATH, authenticated, async (req, res) => {
    const length = req.headers['content-length'];
    try {
      await deps.limits.take('upload', res.locals.userId);
      const { asset, created } = await assets.upload({
        uploadedBy: res.locals.userId,
        contentType: req.headers['content-type'],
        declaredBytes: length === undefined ? undefined : Number(length),
        body: req,
      });
      res.status(created ? 201 : 200).json({
        assetId: asset.assetId,
        size: asset.size,
        contentType: asset.contentType,
      });
    } catch (error) {
      // Refused before the body was read: no point keeping the connection to read the rest.
      if (!req.complete) res.setHeader('connection', 'close');
      throw error;
    }
  });

  app.get(`${ASSETS_PATH}/:id`, authenticated, async (req, res) => {
    const assetId = String(req.params.id);
    const found = await assets.open(assetId);
    if (!found) throw chatError('asset_not_found', { field: 'id' });
    const etag = `"${assetId}"`;
    res.set({
      'content-type': found.asset.contentType,
      etag,
      // Content-addressed: the bytes behind an id never change. Private: it needs a token.
      'cache-control': 'private, max-age=31536000, immutable',
      'x-content-type-options': 'nosniff',
    });
    if (req.headers['if-none-match'] === etag) {
      found.body.destroy();
      res.status(304).end();
      return;
    }
    res.set('content-length', String(found.asset.size));
    try {
      await pipeline(found.body, res);
    } catch (error) {
      // Headers are out: all that is left is to cut the response short.
      res.destroy(error as Error);
    }
  });

  /** A refusal by a per-user limit says when to come back; the kit's handler writes the body. */
  const retryAfter: ErrorRequestHandler = (error, _req, res, next) => {
    if (error instanceof RateLimited) res.setHeader('retry-after', retryAfterSeconds(error));
    next(error);
  };
  app.use(retryAfter);
}
