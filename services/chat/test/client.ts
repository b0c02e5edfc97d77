import WebSocket from 'ws';
import type { ChatMessage, ServerEvent } from '../src/domain/events.ts';
import { Inbox } from '../src/domain/inbox.ts';

export interface Account {
  userId: string;
  name: string;
  token: string;
}

/** Signs a new user up and in through the REST API. */
export async function signUp(baseUrl: string, name: string): Promise<Account> {
  const password = 'correct horse battery';
  const created = await post(baseUrl, '/users', { name, password });
  if (created.status !== 201) throw new Error(`sign-up ${created.status}: ${created.text}`);
  const session = await post(baseUrl, '/sessions', { name, password });
  if (session.status !== 201) throw new Error(`sign-in ${session.status}: ${session.text}`);
  const { userId, token } = session.json as { userId: string; token: string };
  return { userId, name, token };
}

export async function post(
  baseUrl: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const response = await fetch(baseUrl + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, text, json: text ? (JSON.parse(text) as unknown) : undefined };
}

export async function get(baseUrl: string, path: string, token?: string) {
  const response = await fetch(baseUrl + path, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as unknown) : undefined };
}

/**
 * A test client on /ws: it keeps every event, acknowledges delivery of each
 * message (unless told not to), and files messages in an inbox that dedupes.
 */
export class ChatClient {
  readonly events: ServerEvent[] = [];
  readonly inbox = new Inbox();
  readonly ws: WebSocket;
  closeCode: number | undefined;
  readonly closed: Promise<number>;
  #waiters: {
    test: (e: ServerEvent, index: number) => boolean;
    resolve: (e: ServerEvent) => void;
  }[] = [];
  autoAck = true;

  constructor(ws: WebSocket) {
    this.ws = ws;
    this.closed = new Promise((resolve) =>
      ws.once('close', (code) => {
        this.closeCode = code;
        resolve(code);
      }),
    );
    ws.on('error', () => undefined);
    ws.on('message', (data) => {
      const event = JSON.parse(data.toString()) as ServerEvent;
      this.events.push(event);
      if (event.type === 'message') {
        this.inbox.add(stripType(event));
        if (this.autoAck && this.ws.readyState === WebSocket.OPEN) {
          this.ws.send(
            JSON.stringify({
              type: 'delivery_ack',
              conversationId: event.conversationId,
              messageId: event.messageId,
            }),
          );
        }
      }
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.test(event, this.events.length - 1)) return true;
        w.resolve(event);
        return false;
      });
    });
  }

  /** Connects with a bearer header and waits for `ready`. */
  static async connect(
    wsUrl: string,
    token: string | undefined,
    options: { origin?: string; autoAck?: boolean } = {},
  ): Promise<ChatClient> {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    const ws = new WebSocket(wsUrl, { headers, origin: options.origin });
    const client = new ChatClient(ws);
    if (options.autoAck === false) client.autoAck = false;
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) =>
        reject(new Error(`upgrade refused: ${res.statusCode}`)),
      );
      ws.once('error', reject);
    });
    await client.waitFor((e) => e.type === 'ready');
    return client;
  }

  send(event: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(event));
  }

  sendRaw(data: string | Buffer): void {
    this.ws.send(data);
  }

  /** Sends a message and waits for its ack (or error). */
  async sendMessage(conversationId: string, clientSeq: number, body: string) {
    const from = this.events.length;
    const answer = this.waitFor(
      (e, index) =>
        index >= from &&
        ((e.type === 'ack' && e.conversationId === conversationId && e.clientSeq === clientSeq) ||
          (e.type === 'error' && e.clientSeq === clientSeq)),
    );
    this.send({ type: 'send_message', conversationId, clientSeq, body });
    return answer;
  }

  waitFor(
    test: (e: ServerEvent, index: number) => boolean,
    timeoutMs = 15_000,
  ): Promise<ServerEvent> {
    const seen = this.events.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching event in ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.#waiters.push({
        test,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  }

  /** Waits until the inbox holds n messages of a conversation. */
  async waitForMessages(conversationId: string, n: number, timeoutMs = 20_000) {
    const deadline = Date.now() + timeoutMs;
    while (this.inbox.conversation(conversationId).length < n) {
      if (Date.now() > deadline) {
        throw new Error(
          `only ${this.inbox.conversation(conversationId).length} of ${n} messages arrived`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.inbox.conversation(conversationId);
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close();
    await this.closed;
  }
}

function stripType(event: { type: 'message' } & ChatMessage): ChatMessage {
  const { conversationId, messageId, sender, clientSeq, body, attachments, sentAt } = event;
  return { conversationId, messageId, sender, clientSeq, body, attachments, sentAt };
}

/** The upgrade's HTTP status when refused, or 101. */
/** A refused upgrade's status, headers and JSON body (an open one is status 101, no body). */
export function upgradeRefusal(
  wsUrl: string,
  options: { headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: unknown }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl, [], { headers: options.headers });
    ws.once('open', () => {
      ws.close();
      resolve({ status: 101, headers: {}, body: undefined });
    });
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) });
      });
      res.on('error', reject);
    });
    ws.once('error', reject);
  });
}

export function upgradeStatus(
  wsUrl: string,
  options: { headers?: Record<string, string>; origin?: string; protocols?: string[] } = {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl, options.protocols ?? [], {
      headers: options.headers,
      origin: options.origin,
    });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', (error) => reject(error));
  });
}
