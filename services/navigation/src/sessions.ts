import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { z } from 'zod';
import { AppError, type Logger } from '@platform/kit';
import { metresPerDegree } from './domain/geo.ts';
import type { Metric } from './domain/road-graph.ts';
import { navigationError } from './errors.ts';
import type { NavigationMetrics } from './metrics.ts';
import type { LatLng, Navigator, RouteResult } from './navigator.ts';

export const SESSION_PATH = '/navigate';

export interface SessionOptions {
  deviationM: number;
  deviationPings: number;
  arrivalM: number;
  maxMessageBytes: number;
  maxBadMessages: number;
  maxSessions: number;
  maxMessagesPerSecond: number;
  maxBufferedBytes: number;
  heartbeatMs: number;
  idleMs: number;
}

const point = z.object({
  lat: z.number().min(-90).max(90),
  lng: z.number().min(-180).max(180),
});

const clientMessage = z.discriminatedUnion(
  'type',
  [
    z
      .object({
        type: z.literal('start'),
        from: point,
        to: point,
        metric: z.enum(['time', 'distance']).default('time'),
      })
      .strict(),
    z.object({ type: z.literal('ping'), lat: point.shape.lat, lng: point.shape.lng }).strict(),
  ],
  { message: 'expected type start or ping' },
);

type ClientMessage = z.infer<typeof clientMessage>;

/** Where a session is along its route, from the last ping. */
export interface Progress {
  offRouteM: number;
  travelledM: number;
  remainingM: number;
}

/**
 * WebSocket navigation sessions on the API's server: `start` routes, `ping` reports progress;
 * pings off the route by more than deviationM for deviationPings in a row reroute from the
 * last position. Messages are bounded in size; unusable ones are answered with an error, and
 * a session sending too many of them is closed.
 */
export function attachSessions(deps: {
  server: Server;
  logger: Logger;
  metrics: NavigationMetrics;
  navigator: () => Navigator | undefined;
  options: SessionOptions;
}): { close(): Promise<void> } {
  const { server, logger, metrics, options } = deps;
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxMessageBytes });

  const refuse = (socket: Duplex, status: number, reason: string) => {
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  };
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== SESSION_PATH) return refuse(socket, 404, 'Not Found');
    if (!deps.navigator()) return refuse(socket, 503, 'Service Unavailable');
    if (wss.clients.size >= options.maxSessions) return refuse(socket, 503, 'Service Unavailable');
    wss.handleUpgrade(req, socket, head, (ws) => {
      metrics.sessions.inc();
      ws.once('close', () => metrics.sessions.dec());
      new NavigationSession(ws, deps.navigator()!, options, logger);
      wss.emit('connection', ws, req);
    });
  };
  server.on('upgrade', onUpgrade);

  // Every heartbeat, a client that did not answer the last ping is gone: cut it off.
  const alive = new WeakSet<WebSocket>();
  wss.on('connection', (ws) => {
    alive.add(ws);
    ws.on('pong', () => alive.add(ws));
  });
  const heartbeat = setInterval(() => {
    for (const client of wss.clients) {
      if (!alive.delete(client)) client.terminate();
      else client.ping();
    }
  }, options.heartbeatMs);
  heartbeat.unref();

  return {
    close: () => {
      clearInterval(heartbeat);
      server.off('upgrade', onUpgrade);
      for (const client of wss.clients) client.close(1001, 'server shutting down');
      return new Promise((resolve) => {
        // Clients that do not answer the close handshake are cut off.
        const force = setTimeout(() => {
          for (const client of wss.clients) client.terminate();
        }, 2000);
        force.unref();
        wss.close(() => {
          clearTimeout(force);
          resolve();
        });
      });
    },
  };
}

/**
 * One client's navigation: its route, its progress along it, and the deviation count
 * (exported for its unit test).
 */
export class NavigationSession {
  readonly #ws: WebSocket;
  readonly #navigator: Navigator;
  readonly #options: SessionOptions;
  readonly #logger: Logger;
  #route: { to: LatLng; metric: Metric; line: RouteLine } | undefined;
  #offPings = 0;
  #badMessages = 0;
  /** Messages the session may still send now: refilled at maxMessagesPerSecond, up to as many. */
  #allowance: number;
  #lastMessageAt = performance.now();
  readonly #idle: NodeJS.Timeout;

  constructor(ws: WebSocket, navigator: Navigator, options: SessionOptions, logger: Logger) {
    this.#ws = ws;
    this.#navigator = navigator;
    this.#options = options;
    this.#logger = logger;
    this.#allowance = options.maxMessagesPerSecond;
    this.#idle = setTimeout(() => ws.close(1000, 'idle'), options.idleMs);
    ws.on('message', (data, isBinary) => this.#receive(data, isBinary));
    ws.on('error', (error) => logger.info({ err: error }, 'navigation session error'));
    ws.once('close', () => clearTimeout(this.#idle));
  }

  #receive(data: RawData, isBinary: boolean): void {
    this.#idle.refresh();
    let message: ClientMessage;
    try {
      this.#takeAllowance();
      if (isBinary) throw new BadMessage('invalid_message', 'body', 'expected a text frame');
      message = parseMessage(data.toString());
      if (message.type === 'ping' && !this.#route) {
        throw new BadMessage('session_not_started', 'type', 'send start before pings');
      }
    } catch (error) {
      if (!(error instanceof BadMessage)) throw error;
      this.#send({ type: 'error', code: error.code, field: error.field, message: error.message });
      if (++this.#badMessages >= this.#options.maxBadMessages) {
        this.#ws.close(1008, 'too many bad messages');
      }
      return;
    }

    try {
      if (message.type === 'start') this.#start(message);
      else this.#ping(message);
    } catch (error) {
      // Snapping and routing refuse points with catalogued errors; anything else is ours.
      if (!(error instanceof AppError) || error.status >= 500) {
        this.#logger.error({ err: error }, 'navigation session failed');
        this.#send({ type: 'error', code: 'internal', message: 'internal error' });
        return;
      }
      this.#send({ type: 'error', code: error.code, field: error.field, message: error.message });
    }
  }

  #start(message: ClientMessage & { type: 'start' }): void {
    const route = this.#navigator.route(message.from, message.to, message.metric, 'route');
    this.#route = { to: message.to, metric: message.metric, line: new RouteLine(route) };
    this.#offPings = 0;
    this.#send({ type: 'route', route });
  }

  #ping(message: ClientMessage & { type: 'ping' }): void {
    if (!this.#route) {
      throw navigationError('session_not_started', { field: 'type' });
    }
    const progress = this.#route.line.progress(message);
    this.#offPings = progress.offRouteM > this.#options.deviationM ? this.#offPings + 1 : 0;

    if (this.#offPings >= this.#options.deviationPings) {
      const { to, metric } = this.#route;
      const route = this.#navigator.route(message, to, metric, 'reroute');
      this.#route = { to, metric, line: new RouteLine(route) };
      this.#offPings = 0;
      this.#send({ type: 'reroute', route });
      return;
    }
    const arrived =
      progress.remainingM <= this.#options.arrivalM &&
      progress.offRouteM <= this.#options.deviationM;
    this.#send({ type: arrived ? 'arrived' : 'progress', ...progress, offPings: this.#offPings });
  }

  /** Refuses a message beyond the session's rate (a token bucket refilled continuously). */
  #takeAllowance(): void {
    const now = performance.now();
    const rate = this.#options.maxMessagesPerSecond;
    this.#allowance = Math.min(rate, this.#allowance + ((now - this.#lastMessageAt) / 1000) * rate);
    this.#lastMessageAt = now;
    if (this.#allowance < 1) {
      throw new BadMessage('rate_limited', 'type', `at most ${rate} messages per second`);
    }
    this.#allowance -= 1;
  }

  /** Sends unless the client has left too much unread: then it is cut off, not buffered for. */
  #send(message: Record<string, unknown>): void {
    if (this.#ws.readyState !== this.#ws.OPEN) return;
    if (this.#ws.bufferedAmount > this.#options.maxBufferedBytes) {
      this.#ws.terminate();
      return;
    }
    this.#ws.send(JSON.stringify(message));
  }
}

class BadMessage extends Error {
  readonly code: string;
  readonly field: string;

  constructor(code: string, field: string, message: string) {
    super(message);
    this.code = code;
    this.field = field;
  }
}

function parseMessage(text: string): ClientMessage {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new BadMessage('invalid_json', 'body', 'the message is not valid JSON');
  }
  const result = clientMessage.safeParse(json);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.length > 0 ? issue.path.join('.') : 'body';
  const code = field === 'type' ? 'unknown_type' : 'invalid_message';
  throw new BadMessage(code, field, issue.message);
}

/** A route's line with the distance along it at each vertex, to place pings on it. */
export class RouteLine {
  readonly #coordinates: [number, number][];
  readonly #along: number[];

  constructor(route: RouteResult) {
    this.#coordinates = route.geometry.coordinates;
    this.#along = [0];
    for (let i = 1; i < this.#coordinates.length; i++) {
      const [lng0, lat0] = this.#coordinates[i - 1]!;
      const [lng1, lat1] = this.#coordinates[i]!;
      const scale = metresPerDegree(lat0);
      const d = Math.hypot((lng1 - lng0) * scale.lon, (lat1 - lat0) * scale.lat);
      this.#along.push(this.#along[i - 1]! + d);
    }
  }

  get lengthM(): number {
    return this.#along.at(-1)!;
  }

  /**
   * The nearest point of the line to a position: how far off it is, and how far along.
   * TODO(#6): a route that passes the same street twice can place a ping on the later pass;
   * preferring the segment nearest to the last progress would fix it.
   */
  progress(at: LatLng): Progress {
    const scale = metresPerDegree(at.lat);
    let best = { offRouteM: Infinity, travelledM: 0 };
    for (let i = 1; i < this.#coordinates.length; i++) {
      const [lng0, lat0] = this.#coordinates[i - 1]!;
      const [lng1, lat1] = this.#coordinates[i]!;
      const ax = (lng0 - at.lng) * scale.lon;
      const ay = (lat0 - at.lat) * scale.lat;
      const dx = (lng1 - lng0) * scale.lon;
      const dy = (lat1 - lat0) * scale.lat;
      const squared = dx * dx + dy * dy;
      const t = squared === 0 ? 0 : Math.min(1, Math.max(0, -(ax * dx + ay * dy) / squared));
      const off = Math.hypot(ax + t * dx, ay + t * dy);
      if (off < best.offRouteM) {
        const segment = this.#along[i]! - this.#along[i - 1]!;
        best = { offRouteM: off, travelledM: this.#along[i - 1]! + t * segment };
      }
    }
    const round = (value: number) => Math.round(value * 10) / 10;
    return {
      offRouteM: round(best.offRouteM),
      travelledM: round(best.travelledM),
      remainingM: round(this.lengthM - best.travelledM),
    };
  }
}
