import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { AppError, type Logger } from '@platform/kit';
import { bearerToken, CHAT_PROTOCOL, type Tokens } from './auth.ts';
import type { Directory } from './directory.ts';
import { forEachLimited } from './domain/fanout-plan.ts';
import {
  CLIENT_EVENT_TYPES,
  clientEventSchema,
  firstIssue,
  type ChatMessage,
  type ClientEvent,
  type ServerEvent,
} from './domain/events.ts';
import { SendQueue, type FrameKind } from './domain/send-queue.ts';
import type { MessageService } from './messages.ts';
import type { ChatMetrics } from './metrics.ts';
import type { PresenceService } from './presence.ts';
import { RateLimited, type UserRateLimits } from './rate-limits.ts';
import type { Routed, Router } from './router.ts';

export const WS_PATH = '/ws';

/** Close codes a client sees. 1012 asks it to reconnect with jittered backoff. */
export const CLOSE = {
  goingAway: 1001,
  policy: 1008,
  tooBig: 1009,
  restart: 1012,
  slowConsumer: 4008,
} as const;

export interface HandlerOptions {
  handlerId: string;
  allowedOrigins: string[];
  heartbeatMs: number;
  maxFrameBytes: number;
  maxBodyChars: number;
  /** Asset ids one message may carry. */
  maxAttachments: number;
  sendQueueLimit: number;
  maxBufferedBytes: number;
  maxConnections: number;
  /** Connections one user may hold on this handler (each gets its own copy of the pending). */
  maxConnectionsPerUser: number;
  directoryTtlMs: number;
  pendingPullMs: number;
  /** Bad events one connection may send before it is closed. */
  maxBadEvents?: number;
}

export interface HandlerDeps {
  server: Server;
  options: HandlerOptions;
  tokens: Tokens;
  directory: Directory;
  router: Router;
  messages: MessageService;
  presence: PresenceService;
  /** The user's typing budget (sends are limited by the message service). */
  limits: UserRateLimits;
  metrics: ChatMetrics;
  logger: Logger;
}

/** The socket's own buffer above which the queue waits; the queue is the part we control. */
const SOCKET_HIGH_WATER = 64 * 1024;
const PENDING_PAGE = 500;
/** Users whose pending messages one pull reads at once. */
const PULL_CONCURRENCY = 16;
/**
 * Client events one connection may have being handled; beyond it the socket
 * is not read until they finish, so a client sending faster than its events
 * are stored is held back by TCP instead of queued in this process's memory.
 */
const EVENTS_IN_FLIGHT = 64;

/**
 * A WebSocket handler: authenticated connections on /ws, one user → many
 * connections, registered in the directory while open, fed from this
 * handler's forwarding channel and from the user's pending messages.
 */
export class ConnectionPlane {
  readonly #deps: HandlerDeps;
  readonly #wss: WebSocketServer;
  readonly #byUser = new Map<string, Set<Connection>>();
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #schema;
  #accepting = true;
  #unsubscribe: (() => Promise<void>) | undefined;

  constructor(deps: HandlerDeps) {
    this.#deps = deps;
    this.#schema = clientEventSchema(deps.options);
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: deps.options.maxFrameBytes,
      handleProtocols: (offered) => (offered.has(CHAT_PROTOCOL) ? CHAT_PROTOCOL : false),
    });
  }

  get handlerId(): string {
    return this.#deps.options.handlerId;
  }

  async start(): Promise<void> {
    const { server, options, router } = this.#deps;
    this.#unsubscribe = await router.listen(options.handlerId, (routed) => this.#onRouted(routed));
    server.on('upgrade', this.#onUpgrade);

    const every = (ms: number, task: () => Promise<void> | void) => {
      // A run slower than its interval is not joined by the next: under load, overlapping
      // pulls of every user's pending messages would only pile up.
      let running = false;
      const timer = setInterval(() => {
        if (running) return;
        running = true;
        Promise.resolve()
          .then(task)
          .catch((error: unknown) => this.#deps.logger.warn({ err: error }, 'handler task failed'))
          .finally(() => (running = false));
      }, ms);
      timer.unref();
      this.#timers.push(timer);
    };
    every(Math.max(50, options.heartbeatMs / 2), () => this.#heartbeat());
    every(options.directoryTtlMs / 3, async () => {
      const users = [...this.#byUser.keys()];
      await this.#deps.directory.register(users);
      await this.#deps.presence.refresh(users);
    });
    every(options.directoryTtlMs / 3, async () => {
      await this.#deps.presence.sweep();
    });
    every(options.pendingPullMs, () => this.#pullPending());
  }

  /**
   * Open connections, oldest first. One whose close has begun is not: ws keeps
   * it among its clients until the closing handshake ends, and counting it
   * would show a drain's close twice (gone from `draining`, still connected).
   */
  connections(): Connection[] {
    return this.#openSockets()
      .map((ws) => connectionOf(ws))
      .filter((c) => c !== undefined);
  }

  get size(): number {
    return this.#openSockets().length;
  }

  #openSockets(): WebSocket[] {
    return [...this.#wss.clients].filter((ws) => ws.readyState === ws.OPEN);
  }

  /** New upgrades are refused from now on (503), as during shutdown. */
  stopAccepting(): void {
    this.#accepting = false;
  }

  /** Stops the timers and the channel, closes what is left, forgets the users. */
  async close(): Promise<void> {
    this.#accepting = false;
    this.#deps.server.off('upgrade', this.#onUpgrade);
    for (const timer of this.#timers) clearInterval(timer);
    await this.#unsubscribe?.().catch(() => undefined);
    for (const ws of this.#wss.clients) ws.close(CLOSE.goingAway, 'server shutting down');
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        for (const ws of this.#wss.clients) ws.terminate();
      }, 2000);
      force.unref();
      this.#wss.close(() => {
        clearTimeout(force);
        resolve();
      });
    });
    await Promise.all(
      [...this.#byUser.keys()].map((user) =>
        this.#deps.directory
          .unregister(user)
          .then(() => this.#deps.presence.disconnected(user))
          .catch(() => undefined),
      ),
    );
    this.#byUser.clear();
    this.#deps.presence.close();
  }

  #onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    void this.#upgrade(req, socket, head).catch((error: unknown) => {
      this.#deps.logger.error({ err: error }, 'upgrade failed');
      refuse(socket, 500, { code: 'internal', message: 'the upgrade failed' });
    });
  };

  async #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const { options, tokens, metrics } = this.#deps;
    const no = (status: number, reason: string, error: UpgradeError, headers = {}) => {
      metrics.refusedUpgrades.labels(reason).inc();
      refuse(socket, status, error, headers);
    };
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== WS_PATH) return no(404, 'path', { code: 'not_found', message: `only ${WS_PATH}` });
    if (!this.#accepting || this.size >= options.maxConnections) {
      return no(503, 'unavailable', {
        code: 'unavailable',
        message: 'this handler takes no more connections, try another',
      });
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !options.allowedOrigins.includes(origin)) {
      return no(403, 'origin', {
        code: 'origin_not_allowed',
        message: 'this Origin is not allowed',
      });
    }
    const token = bearerToken(req);
    const user = token === undefined ? undefined : await tokens.verify(token);
    if (user === undefined) {
      // RFC 6750: a presented token that failed is an invalid_token; none at all names no error.
      const challenge = token === undefined ? 'Bearer realm="chat"' : INVALID_TOKEN;
      return no(401, 'token', unauthenticated(token), { 'WWW-Authenticate': challenge });
    }
    if (this.#atUserLimit(user)) {
      return no(429, 'user_limit', {
        code: 'too_many_connections',
        message: 'this user holds as many connections as it may',
      });
    }

    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#open(ws, user));
  }

  /** The user holds as many connections here as it may (checked again once upgraded). */
  #atUserLimit(user: string): boolean {
    return (this.#byUser.get(user)?.size ?? 0) >= this.#deps.options.maxConnectionsPerUser;
  }

  #open(ws: WebSocket, user: string): void {
    const { metrics, directory, presence, logger } = this.#deps;
    // Upgrades of one user racing past the check before the upgrade: the extra ones go now.
    if (this.#atUserLimit(user)) {
      metrics.refusedUpgrades.labels('user_limit').inc();
      ws.close(CLOSE.policy, 'too many connections of this user');
      return;
    }
    const connection = new Connection(ws, user, this.#deps, this.#schema);
    let connections = this.#byUser.get(user);
    if (!connections) this.#byUser.set(user, (connections = new Set()));
    connections.add(connection);
    metrics.connections.inc();

    ws.once('close', () => {
      metrics.connections.dec();
      connection.closed();
      const left = this.#byUser.get(user);
      left?.delete(connection);
      if (left?.size === 0) {
        this.#byUser.delete(user);
        directory
          .unregister(user)
          .then(() => presence.disconnected(user))
          .catch((error: unknown) => {
            logger.warn({ err: error }, 'connection tear-down failed');
          });
      }
    });

    // Registered before the pending read: a message stored after that read finds us here.
    void directory
      .register([user])
      .then(() => {
        presence.connected(user).catch((error: unknown) => {
          logger.warn({ err: error }, 'presence update failed');
        });
        return connection.backfill();
      })
      .catch((error: unknown) => {
        logger.error({ err: error }, 'connection set-up failed');
        ws.close(CLOSE.restart, 'try again');
      });
  }

  /** A forward for one user (`{user, event}`) or, from group fan-out, many (`{users, event}`). */
  #onRouted(routed: Routed): void {
    for (const user of 'users' in routed ? routed.users : [routed.user]) {
      const connections = this.#byUser.get(user);
      if (!connections) continue;
      for (const connection of connections) {
        if (routed.event.type === 'message') connection.deliver(routed.event);
        else
          connection.send(routed.event, routed.event.type === 'typing' ? 'droppable' : 'essential');
      }
    }
  }

  #heartbeat(): void {
    for (const connection of this.connections()) connection.heartbeat();
  }

  /**
   * The server side of the watermark pull: what a lost forward left pending
   * is sent again. Only messages older than a grace period, so the pull does
   * not overtake live forwards still on their way and reorder a conversation.
   */
  async #pullPending(): Promise<void> {
    let backlog = 0;
    const grace = Math.max(1000, this.#deps.options.pendingPullMs / 2);
    // Several users at a time: one read after another, a thousand users on a loaded
    // Cassandra took longer than the tests' 30 s, and a lost forward waited that long.
    await forEachLimited([...this.#byUser.keys()], PULL_CONCURRENCY, async (user) => {
      const pending = await this.#deps.messages.pending(user, PENDING_PAGE);
      backlog += pending.length;
      const overdue = pending.filter((message) => message.sentAt < Date.now() - grace);
      for (const connection of this.#byUser.get(user) ?? []) {
        for (const message of overdue) connection.deliver({ type: 'message', ...message });
      }
    });
    this.#deps.metrics.pendingBacklog.set(backlog);
  }
}

const connections = new WeakMap<WebSocket, Connection>();
const connectionOf = (ws: WebSocket) => connections.get(ws);

interface UpgradeError {
  code: string;
  message: string;
}

const INVALID_TOKEN =
  'Bearer realm="chat", error="invalid_token", error_description="expired, forged or malformed"';

function unauthenticated(token: string | undefined): UpgradeError {
  return {
    code: 'unauthenticated',
    message:
      token === undefined
        ? 'a bearer token is required (Authorization header, bearer.<token> subprotocol or ' +
          'access_token parameter)'
        : 'the token is expired, forged or malformed: sign in again',
  };
}

/** Answers an upgrade with plain HTTP: the status and the platform's JSON error body. */
function refuse(
  socket: Duplex,
  status: number,
  error: UpgradeError,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify({ error });
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    'Connection: close',
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

type MessageEvent = { type: 'message' } & ChatMessage;

/** One client connection: its send queue, heartbeat, and the events it sends. */
export class Connection {
  readonly user: string;
  readonly openedAt = Date.now();
  readonly #ws: WebSocket;
  readonly #deps: HandlerDeps;
  readonly #schema: ReturnType<typeof clientEventSchema>;
  readonly #queue: SendQueue<string>;
  /** Message ids sent on this connection and not yet acknowledged. */
  readonly #unacked = new Set<string>();
  #alive = true;
  #backfilling = true;
  #heldBack: MessageEvent[] = [];
  #flushTimer: NodeJS.Timeout | undefined;
  #sends: Promise<void> = Promise.resolve();
  #badEvents = 0;
  #inFlight = 0;
  #closed = false;
  /** Until then, typing refused by the limit is dropped without telling the client again. */
  #typingToldUntil = 0;

  constructor(
    ws: WebSocket,
    user: string,
    deps: HandlerDeps,
    schema: ReturnType<typeof clientEventSchema>,
  ) {
    this.#ws = ws;
    this.user = user;
    this.#deps = deps;
    this.#schema = schema;
    this.#queue = new SendQueue(deps.options.sendQueueLimit);
    connections.set(ws, this);
    ws.on('pong', () => (this.#alive = true));
    ws.on('message', (data, isBinary) => this.#receive(data, isBinary));
    ws.on('error', (error) => deps.logger.debug({ err: error }, 'connection error'));
  }

  /**
   * Once the directory lists this handler for the user: `ready`, then the
   * user's pending messages, then what was forwarded meanwhile, in order.
   */
  async backfill(): Promise<void> {
    this.send(
      { type: 'ready', handler: this.#deps.options.handlerId, userId: this.user },
      'essential',
    );
    const pending = await this.#deps.messages.pending(this.user, PENDING_PAGE);
    for (const message of pending) this.#deliverNow({ type: 'message', ...message });
    this.#backfilling = false;
    for (const event of this.#heldBack) this.#deliverNow(event);
    this.#heldBack = [];
  }

  /** A message for this user, unless this connection already has it unacknowledged. */
  deliver(event: MessageEvent): void {
    if (this.#backfilling) this.#heldBack.push(event);
    else this.#deliverNow(event);
  }

  #deliverNow(event: MessageEvent): void {
    if (this.#unacked.has(event.messageId)) return;
    this.#unacked.add(event.messageId);
    this.send(event, 'essential');
    // Closed by now: the connection was, or has just been cut off as a slow consumer.
    this.#deps.metrics.deliveries[this.#closed ? 'error' : 'ok'].inc();
  }

  send(event: ServerEvent, kind: FrameKind): void {
    if (this.#closed) return;
    const outcome = this.#queue.push(JSON.stringify(event), kind);
    if (outcome === 'dropped') this.#deps.metrics.typingDropped.inc();
    if (outcome === 'overflow') return this.#closeSlow();
    this.#flush();
  }

  #flush(): void {
    if (this.#closed) return;
    if (this.#ws.bufferedAmount > this.#deps.options.maxBufferedBytes) return this.#closeSlow();
    while (this.#queue.length > 0 && this.#ws.bufferedAmount < SOCKET_HIGH_WATER) {
      this.#ws.send(this.#queue.shift()!);
    }
    if (this.#queue.length > 0 && !this.#flushTimer) {
      // ws has no drain event of its own: look again shortly.
      this.#flushTimer = setTimeout(() => {
        this.#flushTimer = undefined;
        this.#flush();
      }, 20);
    }
  }

  #closeSlow(): void {
    if (this.#closed) return;
    this.#deps.metrics.slowConsumersClosed.inc();
    this.#deps.logger.info({ user: this.user }, 'slow consumer closed');
    this.#queue.clear();
    this.#ws.close(CLOSE.slowConsumer, 'slow consumer');
    // A client that does not read will not read the close frame either.
    setTimeout(() => this.#ws.terminate(), 1000).unref();
    this.#closed = true;
  }

  heartbeat(): void {
    // Not reading (events in flight): its pong waits behind what it sent, unread by us.
    if (this.#ws.isPaused) return;
    if (!this.#alive) {
      this.#deps.metrics.deadPeers.inc();
      this.#ws.terminate();
      return;
    }
    this.#alive = false;
    this.#ws.ping();
  }

  /** Closes with a code and reason, as a drain does. */
  close(code: number, reason: string): void {
    this.#ws.close(code, reason);
  }

  closed(): void {
    this.#closed = true;
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    this.#queue.clear();
  }

  #receive(data: RawData, isBinary: boolean): void {
    // Any frame shows the peer is there, as a pong would.
    this.#alive = true;
    const event = this.#parse(data, isBinary);
    if (!event) return;
    this.#deps.metrics.eventsInFlight.inc();
    if (++this.#inFlight === EVENTS_IN_FLIGHT) this.#ws.pause();
    const done = () => {
      this.#deps.metrics.eventsInFlight.dec();
      if (--this.#inFlight === EVENTS_IN_FLIGHT - 1) this.#ws.resume();
    };
    if (event.type === 'send_message') {
      // One at a time per connection, so a sender's messages are stored and forwarded in order.
      this.#sends = this.#sends.then(() => this.#handle(event)).then(done);
    } else {
      void this.#handle(event).then(done);
    }
  }

  #parse(data: RawData, isBinary: boolean): ClientEvent | undefined {
    let json: unknown;
    try {
      if (isBinary) return this.#refuse('invalid_event', 'type', 'expected a text frame');
      json = JSON.parse(data.toString());
    } catch {
      return this.#refuse('invalid_json', 'body', 'expected one JSON object per frame');
    }
    const parsed = this.#schema.safeParse(json);
    if (!parsed.success) {
      const { field, message } = firstIssue(parsed.error);
      const type = (json as { type?: unknown } | null)?.type;
      const known = typeof type === 'string' && CLIENT_EVENT_TYPES.has(type);
      const code = known ? 'invalid_event' : 'unknown_event';
      return this.#refuse(code, field, message, clientSeqOf(json));
    }
    return parsed.data;
  }

  #refuse(code: string, field: string, message: string, clientSeq?: number): undefined {
    this.#deps.metrics.badEvents.labels(code).inc();
    this.send({ type: 'error', code, field, message, clientSeq }, 'essential');
    if (++this.#badEvents >= (this.#deps.options.maxBadEvents ?? 10)) {
      this.#ws.close(CLOSE.policy, 'too many bad events');
    }
    return undefined;
  }

  async #handle(event: ClientEvent): Promise<void> {
    const { messages, router, presence } = this.#deps;
    try {
      switch (event.type) {
        case 'send_message': {
          const { message, duplicate } = await messages.send(this.user, event);
          const { conversationId, messageId, clientSeq, sentAt } = message;
          this.send(
            { type: 'ack', duplicate, conversationId, messageId, clientSeq, sentAt },
            'essential',
          );
          await messages.forward(message);
          break;
        }
        case 'delivery_ack':
          this.#unacked.delete(event.messageId);
          await messages.deliveryAck(this.user, event.conversationId, event.messageId);
          break;
        case 'read_ack':
          await messages.readAck(this.user, event.conversationId, event.messageId);
          break;
        case 'typing':
          if (!(await this.#typingAllowed())) break;
          for (const peer of await messages.typingPeers(this.user, event.conversationId)) {
            router.bestEffort(peer, {
              type: 'typing',
              conversationId: event.conversationId,
              userId: this.user,
              typing: event.typing,
            });
          }
          break;
        case 'presence_update':
          await presence.update(this.user, event.status);
          break;
        case 'sync': {
          const page = await messages.history(
            this.user,
            event.conversationId,
            event.after,
            event.limit,
          );
          for (const message of page) this.send({ type: 'message', ...message }, 'essential');
          this.send(
            {
              type: 'synced',
              conversationId: event.conversationId,
              last: page.at(-1)?.messageId ?? null,
            },
            'essential',
          );
          break;
        }
      }
    } catch (error) {
      const clientSeq = event.type === 'send_message' ? event.clientSeq : undefined;
      if (error instanceof RateLimited) {
        // Not a bad event: the client slows down and resends, the connection stays.
        const { code, message, retryAfterMs } = error;
        this.send({ type: 'error', code, message, clientSeq, retryAfterMs }, 'essential');
        return;
      }
      if (error instanceof AppError && error.status < 500) {
        this.#refuse(error.code, error.field ?? 'type', error.message, clientSeq);
        return;
      }
      this.#deps.logger.error({ err: error, type: event.type }, 'event failed');
      // Nothing was acknowledged: the client resends and the claim makes it safe.
      this.send(
        { type: 'error', code: 'internal', message: 'internal error', clientSeq },
        'essential',
      );
    }
  }

  /**
   * Whether the user's typing budget takes this event. Past it the event is
   * dropped (typing is best effort), and the client hears so once a window.
   */
  async #typingAllowed(): Promise<boolean> {
    const refusal = await this.#deps.limits.check('typing', this.user);
    if (!refusal) return true;
    if (Date.now() >= this.#typingToldUntil) {
      this.#typingToldUntil = Date.now() + refusal.retryAfterMs;
      const { code, message, retryAfterMs } = refusal;
      this.send({ type: 'error', code, message, field: 'type', retryAfterMs }, 'droppable');
    }
    return false;
  }
}

function clientSeqOf(json: unknown): number | undefined {
  const seq = (json as { clientSeq?: unknown } | null)?.clientSeq;
  return typeof seq === 'number' ? seq : undefined;
}
