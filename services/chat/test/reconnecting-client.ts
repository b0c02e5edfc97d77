import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import type { ChatMessage, ServerEvent } from '../src/domain/events.ts';
import { Inbox } from '../src/domain/inbox.ts';

/** Reconnect delays: attempt n waits up to min(capMs, firstMs · 2^(n-1)). */
export interface Backoff {
  firstMs: number;
  capMs: number;
  /** Full jitter (a uniform delay in [0, window]); without it every client waits the window. */
  jitter: boolean;
}

export const JITTERED: Backoff = { firstMs: 1000, capMs: 8000, jitter: true };

/** The delay before reconnect attempt n (from 1). */
export function backoffDelay(backoff: Backoff, attempt: number, random = Math.random): number {
  const window = Math.min(backoff.capMs, backoff.firstMs * 2 ** (attempt - 1));
  return backoff.jitter ? random() * window : window;
}

/**
 * What a Kubernetes Service does for the tests: each new connection goes to
 * one of the ready handlers, picked at random (kube-proxy's iptables mode
 * picks endpoints at random too). The test says which handlers are ready.
 */
export class HandlerService {
  #ready: string[] = [];

  setReady(wsUrls: string[]): void {
    this.#ready = [...wsUrls];
  }

  get ready(): readonly string[] {
    return this.#ready;
  }

  pick(): string | undefined {
    return this.#ready[Math.floor(Math.random() * this.#ready.length)];
  }
}

/** A message this client sends, until and after its ack. */
export interface Outgoing {
  conversationId: string;
  clientSeq: number;
  body: string;
  ack?: { messageId: string; duplicate: boolean };
}

/** One loss of the connection and the way back. */
export interface Reconnect {
  closedAt: number;
  code: number;
  /** When each attempt started (performance.now()). */
  attempts: number[];
  readyAt?: number;
  handler?: string;
}

/**
 * A chat client as the client contract asks for one: on losing its
 * connection it reconnects through the Service with jittered exponential
 * backoff, resends what was not acknowledged with the same clientSeq, and
 * sends `sync` with its watermark per conversation; it keeps messages by id
 * in an Inbox and acknowledges each. Times are performance.now().
 */
export class ReconnectingClient {
  readonly userId: string;
  readonly token: string;
  readonly inbox = new Inbox();
  readonly outgoing: Outgoing[] = [];
  readonly reconnects: Reconnect[] = [];
  /** Message frames received, duplicates included. */
  received = 0;
  /** Error events other than `internal`: the tests expect none. */
  readonly errors: ServerEvent[] = [];
  /**
   * `internal` errors: the server could not do it now (a store call failed). A send is
   * resent; a failed delivery_ack leaves the message pending, so the pull brings it again.
   */
  internalErrors = 0;
  /** The handler of the current connection, from its `ready`. */
  handler: string | undefined;
  /** Called for each message id the first time it arrives. */
  onFirstDelivery: ((message: ChatMessage, at: number) => void) | undefined;

  readonly #service: HandlerService;
  readonly #backoff: Backoff;
  readonly #conversations = new Set<string>();
  readonly #nextSeq = new Map<string, number>();
  readonly #unacked = new Map<string, Outgoing>();
  #ws: WebSocket | undefined;
  #ready = false;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #firstReady: { resolve: () => void; reject: (error: Error) => void } | undefined;
  #firstUrl: string | undefined;
  #firstFailures = 0;
  #lastError = '';

  constructor(userId: string, token: string, service: HandlerService, backoff = JITTERED) {
    this.userId = userId;
    this.token = token;
    this.#service = service;
    this.#backoff = backoff;
  }

  /** Connects (to `wsUrl`, else through the Service) and resolves at the first `ready`. */
  start(wsUrl?: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#firstReady = { resolve, reject };
      this.#firstUrl = wsUrl;
      this.#open(wsUrl);
    });
  }

  get connected(): boolean {
    return this.#ready;
  }

  /** A conversation this client is in: synced after every reconnect. */
  join(conversationId: string): void {
    this.#conversations.add(conversationId);
  }

  /** Sends the next message of a conversation, now if connected, else once reconnected. */
  send(conversationId: string, body: string): Outgoing {
    this.join(conversationId);
    const clientSeq = (this.#nextSeq.get(conversationId) ?? 0) + 1;
    this.#nextSeq.set(conversationId, clientSeq);
    const message: Outgoing = { conversationId, clientSeq, body };
    this.outgoing.push(message);
    this.#unacked.set(keyOf(message), message);
    if (this.#ready) this.#transmit(message);
    return message;
  }

  get unacked(): number {
    return this.#unacked.size;
  }

  /** Stops reconnecting and closes. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    const ws = this.#ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise((resolve) => ws.once('close', resolve));
    ws.close();
    setTimeout(() => ws.terminate(), 2000).unref();
    await closed;
  }

  #open(wsUrl = this.#service.pick()): void {
    if (this.#stopped) return;
    const reconnect = this.reconnects.at(-1);
    reconnect?.attempts.push(performance.now());
    if (wsUrl === undefined) return this.#retry();
    const ws = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${this.token}` } });
    this.#ws = ws;
    // A refused upgrade (503 while full or draining) or a refused connection ends in 'close'.
    ws.on('error', (error) => (this.#lastError = error.message));
    ws.on('message', (data) => this.#receive(JSON.parse(data.toString()) as ServerEvent));
    ws.once('close', (code) => this.#closed(ws, code));
  }

  #closed(ws: WebSocket, code: number): void {
    if (this.#ws !== ws) return;
    const wasReady = this.#ready;
    this.#ws = undefined;
    this.#ready = false;
    if (this.#stopped) return;
    if (this.#firstReady) {
      // The first connection is tried a few times too, then given up on.
      if (++this.#firstFailures < 5) {
        const delay = backoffDelay(this.#backoff, this.#firstFailures);
        this.#timer = setTimeout(() => this.#open(this.#firstUrl), delay);
        return;
      }
      this.#stopped = true;
      const reason = `${code} ${this.#lastError}`;
      return this.#firstReady.reject(new Error(`${this.userId} could not connect: ${reason}`));
    }
    if (wasReady) this.reconnects.push({ closedAt: performance.now(), code, attempts: [] });
    this.#retry();
  }

  #retry(): void {
    const attempt = (this.reconnects.at(-1)?.attempts.length ?? 0) + 1;
    this.#timer = setTimeout(() => this.#open(), backoffDelay(this.#backoff, attempt));
  }

  #receive(event: ServerEvent): void {
    switch (event.type) {
      case 'ready':
        return this.#onReady(event.handler);
      case 'ack': {
        const message = this.#unacked.get(`${event.conversationId}:${event.clientSeq}`);
        if (!message) return;
        message.ack = { messageId: event.messageId, duplicate: event.duplicate };
        this.#unacked.delete(keyOf(message));
        return;
      }
      case 'message': {
        this.received++;
        const { conversationId, messageId, sender, clientSeq, body, attachments, sentAt } = event;
        const message = { conversationId, messageId, sender, clientSeq, body, attachments, sentAt };
        if (this.inbox.add(message)) this.onFirstDelivery?.(message, performance.now());
        this.#ws?.send(JSON.stringify({ type: 'delivery_ack', conversationId, messageId }));
        return;
      }
      case 'error': {
        if (event.code !== 'internal') {
          this.errors.push(event);
          return;
        }
        // Nothing was stored: send it again, same clientSeq.
        this.internalErrors++;
        const unacked = [...this.#unacked.values()];
        const message = unacked.find((m) => m.clientSeq === event.clientSeq);
        if (message) this.#transmit(message);
        return;
      }
      default:
        return;
    }
  }

  #onReady(handler: string): void {
    const reconnect = this.reconnects.at(-1);
    const first = this.#firstReady;
    this.#firstReady = undefined;
    this.#ready = true;
    this.handler = handler;
    if (reconnect && reconnect.readyAt === undefined) {
      reconnect.readyAt = performance.now();
      reconnect.handler = handler;
    }
    if (!first) {
      // Whatever a lost forward or a lost pending row skipped, from the last message held on.
      for (const conversationId of this.#conversations) {
        const after = this.inbox.watermark(conversationId);
        this.#ws?.send(JSON.stringify({ type: 'sync', conversationId, limit: 500, after }));
      }
    }
    const waiting = [...this.#unacked.values()].sort((a, b) => a.clientSeq - b.clientSeq);
    for (const message of waiting) this.#transmit(message);
    first?.resolve();
  }

  #transmit(message: Outgoing): void {
    const { conversationId, clientSeq, body } = message;
    this.#ws?.send(JSON.stringify({ type: 'send_message', conversationId, clientSeq, body }));
  }
}

const keyOf = (m: { conversationId: string; clientSeq: number }) =>
  `${m.conversationId}:${m.clientSeq}`;

/** Runs tasks with at most `limit` at once. */
export async function inBatches<T>(
  items: T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
