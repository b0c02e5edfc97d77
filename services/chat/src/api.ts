import { randomBytes } from 'node:crypto';
import type { RequestHandler } from 'express';
import { z } from 'zod';
import { clientRateLimit, idempotency, parseInput, type Cache, type HttpApp } from '@platform/kit';
import { bearerToken, type Tokens } from './auth.ts';
import {
  directConversationId,
  groupConversationId,
  GROUP_ID,
  USER_ID,
} from './domain/conversation.ts';
import { hashPassword, verifyPassword } from './domain/password.ts';
import { TIME_ID } from './domain/time-id.ts';
import { chatError } from './errors.ts';
import type { Groups } from './groups.ts';
import type { MessageService } from './messages.ts';
import { NameTaken, type UserStore } from './store/user.store.ts';

const credentials = z.strictObject({
  name: z.string().regex(/^[\w.-]{1,64}$/, 'expected 1-64 letters, digits, ".", "_" or "-"'),
  password: z.string().min(8, 'must be at least 8 characters').max(256),
});

const historyQuery = z.object({
  after: z.string().regex(TIME_ID, 'expected a message id').optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

const groupBody = z.strictObject({
  name: z.string().trim().min(1, 'must not be empty').max(100),
  members: z.array(z.string().regex(USER_ID, 'expected user ids')).max(10_000),
});

const pendingQuery = z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) });

export interface ApiDeps {
  users: UserStore;
  tokens: Tokens;
  messages: MessageService;
  groups: Groups;
  cache: Cache;
  passwordLogN: number;
  signInRateLimit: number;
  maxBodyChars: number;
}

declare module 'express-serve-static-core' {
  interface Locals {
    userId: string;
  }
}

/** The REST API: users, sessions, groups, sending and reading messages. */
export function addApiRoutes(http: HttpApp, deps: ApiDeps): void {
  const { app } = http;
  const { users, tokens, messages, groups, cache } = deps;
  const groupSendBody = z.strictObject({
    clientSeq: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    body: z.string().min(1).max(deps.maxBodyChars),
  });
  const sendBody = groupSendBody.extend({ conversationId: z.string().min(1).max(80) });

  const authenticated: RequestHandler = async (req, res, next) => {
    const token = req.headers.authorization === undefined ? undefined : bearerToken(req);
    const user = token === undefined ? undefined : await tokens.verify(token);
    if (user === undefined) return next(chatError('unauthenticated'));
    res.locals.userId = user;
    next();
  };
  const signInLimit = clientRateLimit({
    cache,
    name: 'chat-sign-in',
    limit: deps.signInRateLimit,
    windowMs: 60_000,
  });

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

  app.post(
    '/messages',
    authenticated,
    idempotency({ cache, scope: 'chat:messages' }),
    async (req, res) => {
      const body = parseInput(sendBody, req.body);
      const { message, duplicate } = await messages.send(res.locals.userId, body);
      res.status(duplicate ? 200 : 201).json({ ...message, duplicate });
      void messages.forward(message);
    },
  );

  /** A group of the caller and these users; the caller is always a member. */
  app.post('/groups', authenticated, async (req, res) => {
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
    idempotency({ cache, scope: 'chat:group-messages' }),
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
}
