import { createServer, type IncomingMessage, type Server } from 'node:http';

/**
 * A stand-in for a chat handler's admin API (README.md, "Handler admin
 * contract"): it holds a count of fake connections instead of WebSockets and
 * closes them at the asked rate when told to drain. Each closed connection is
 * handed to `onClose`, which plays the clients reconnecting through the Service.
 */
export interface DrainRecord {
  at: number;
  connections: number;
  perSecond: number;
}

export class StandInHandler {
  readonly name: string;
  connections: number;
  /** Requests received, in order, for assertions. */
  readonly drains: DrainRecord[] = [];
  /** Set by the test when the pod is terminating: the Service no longer routes to it. */
  terminating = false;
  onClose: (from: StandInHandler) => void = () => {};
  #server: Server | undefined;
  #drain: { left: number; perSecond: number; startedAt: number; closed: number } | undefined;
  #ticker: NodeJS.Timeout | undefined;

  constructor(name: string, connections: number) {
    this.name = name;
    this.connections = connections;
  }

  get draining(): number {
    return this.#drain?.left ?? 0;
  }

  /** Listens on 127.0.0.1 on a free port; resolves to that port. */
  async listen(): Promise<number> {
    this.#server = createServer((req, res) => {
      void this.#answer(req).then(({ status, body }) => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.#ticker = setInterval(() => this.#tick(), 20);
    return (this.#server.address() as { port: number }).port;
  }

  async close(): Promise<void> {
    clearInterval(this.#ticker);
    this.#server?.closeAllConnections();
    await new Promise((resolve) => this.#server?.close(resolve));
  }

  /** A client connecting through the Service. */
  accept(): void {
    this.connections++;
  }

  async #answer(req: IncomingMessage): Promise<{ status: number; body: unknown }> {
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'GET' && path === '/admin/load') {
      return {
        status: 200,
        body: { handler: this.name, connections: this.connections, draining: this.draining },
      };
    }
    if (req.method === 'POST' && path === '/admin/drain') {
      let request: { connections?: unknown; perSecond?: unknown };
      try {
        request = JSON.parse(await text(req)) as typeof request;
      } catch {
        return {
          status: 400,
          body: {
            error: { code: 'invalid_request', message: 'the body is not JSON', field: 'body' },
          },
        };
      }
      const { connections, perSecond } = request;
      if (!Number.isInteger(connections) || (connections as number) < 0) {
        return { status: 400, body: invalid('connections') };
      }
      if (typeof perSecond !== 'number' || !(perSecond > 0)) {
        return { status: 400, body: invalid('perSecond') };
      }
      this.drains.push({ at: Date.now(), connections: connections as number, perSecond });
      // A new drain replaces the one in progress; 0 cancels.
      const accepted = Math.min(connections as number, this.connections);
      this.#drain =
        accepted > 0 ? { left: accepted, perSecond, startedAt: Date.now(), closed: 0 } : undefined;
      return { status: 202, body: { accepted } };
    }
    return { status: 404, body: { error: 'not_found' } };
  }

  #tick(): void {
    const drain = this.#drain;
    if (!drain) return;
    const due =
      Math.floor(((Date.now() - drain.startedAt) / 1000) * drain.perSecond) - drain.closed;
    const closing = Math.min(due, drain.left, this.connections);
    for (let i = 0; i < closing; i++) {
      this.connections--;
      drain.left--;
      drain.closed++;
      this.onClose(this);
    }
    if (drain.left <= 0 || this.connections === 0) this.#drain = undefined;
  }
}

/**
 * The Service in front of the stand-ins: a closed client reconnects to the
 * serving handler with the fewest connections (or wherever `route` says).
 */
export class StandInService {
  readonly handlers: StandInHandler[] = [];
  route: (from: StandInHandler, serving: StandInHandler[]) => StandInHandler | undefined = (
    _from,
    serving,
  ) =>
    serving.reduce<StandInHandler | undefined>(
      (a, b) => (a && a.connections <= b.connections ? a : b),
      undefined,
    );

  add(handler: StandInHandler): void {
    handler.onClose = (from) => {
      const serving = this.handlers.filter((h) => !h.terminating);
      this.route(from, serving)?.accept();
    };
    this.handlers.push(handler);
  }

  counts(): Record<string, number> {
    return Object.fromEntries(this.handlers.map((h) => [h.name, h.connections]));
  }
}

function text(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The platform's error body (the kit's AppError), naming the field. */
function invalid(field: string) {
  return { error: { code: 'invalid_request', message: `${field} is not valid`, field } };
}
