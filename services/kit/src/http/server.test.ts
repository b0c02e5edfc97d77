import { connect } from 'node:net';
import type { Express } from 'express';
import { createLogger } from '../telemetry/logger.ts';
import { createMetrics } from '../telemetry/metrics.ts';
import { createHttpApp } from './app.ts';
import { serve, serveApp, type FastPath, type RunningServer, type ServeOptions } from './server.ts';

const logger = createLogger('kit-test', 'silent');
const running: RunningServer[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
});

/** An express app whose /slow answers when the test releases it and whose /never never does. */
function appWithSlowRoutes(): { app: Express; slowStarted: Promise<void>; release: () => void } {
  const http = createHttpApp({ logger, metrics: createMetrics('kit-test') });
  let started = () => {};
  let release = () => {};
  const slowStarted = new Promise<void>((resolve) => (started = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));

  http.app.get('/slow', async (_req, res) => {
    started();
    await released;
    res.json({ done: true });
  });
  http.app.get('/never', () => {
    started();
  });
  return { app: http.finish(), slowStarted, release };
}

async function start(options: Partial<ServeOptions> & { app: Express }): Promise<RunningServer> {
  const server = await serve({ port: 0, host: '127.0.0.1', logger, ...options });
  running.push(server);
  return server;
}

/** The `error` object of a JSON error answer. */
async function errorOf(res: Response): Promise<Record<string, unknown>> {
  return ((await res.json()) as { error: Record<string, unknown> }).error;
}

/** The error code of a request that fails before any answer, e.g. ECONNREFUSED. */
async function failureOf(request: Promise<Response>): Promise<string> {
  try {
    const res = await request;
    return `answered ${res.status}`;
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return cause?.code ?? String(error);
  }
}

describe('serve', () => {
  it('listens on the port the OS picked and reports its url', async () => {
    const { app } = appWithSlowRoutes();
    const server = await start({ app });

    const res = await fetch(`${server.url}/healthz`);

    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(res.status).toBe(200);
  });

  it('rejects when the port is taken', async () => {
    const { app } = appWithSlowRoutes();
    const first = await start({ app });

    await expect(serve({ app, port: first.port, host: '127.0.0.1', logger })).rejects.toMatchObject(
      {
        code: 'EADDRINUSE',
        message:
          `port ${first.port} is already in use: ` +
          'stop what listens there or choose another port',
      },
    );
  });

  it('lets the fast path answer some requests and express the rest', async () => {
    const { app } = appWithSlowRoutes();
    const seen: string[] = [];
    const fastPath: FastPath = (req, res) => {
      seen.push(req.url ?? '');
      if (req.url !== '/fast') return false;
      res.writeHead(200, { 'content-type': 'text/plain' }).end('fast');
      return true;
    };
    const server = await start({ app, fastPath });

    const fast = await fetch(`${server.url}/fast`);
    const health = await fetch(`${server.url}/healthz`);
    const missing = await fetch(`${server.url}/missing`);

    expect(fast.status).toBe(200);
    expect(await fast.text()).toBe('fast');
    expect(fast.headers.get('x-request-id')).toBeNull();
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect(health.headers.get('x-request-id')).not.toBeNull();
    expect(missing.status).toBe(404);
    expect(await errorOf(missing)).toMatchObject({ code: 'not_found' });
    expect(seen).toEqual(['/fast', '/healthz', '/missing']);
  });

  it('lets an in-flight request finish on close and refuses new connections', async () => {
    const { app, slowStarted, release } = appWithSlowRoutes();
    const server = await serve({ app, port: 0, host: '127.0.0.1', logger, drainMs: 4_000 });

    const inFlight = fetch(`${server.url}/slow`);
    await slowStarted;
    const closing = server.close();
    const refused = await failureOf(fetch(`${server.url}/healthz`));
    release();
    const res = await inFlight;

    expect(refused).toBe('ECONNREFUSED');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ done: true });
    await closing;
  });

  it('finishes closing as soon as the last in-flight request is answered', async () => {
    const { app, slowStarted, release } = appWithSlowRoutes();
    const server = await serve({ app, port: 0, host: '127.0.0.1', logger, drainMs: 4_000 });

    const inFlight = fetch(`${server.url}/slow`);
    await slowStarted;
    const closing = server.close();
    release();
    await (await inFlight).text();
    const started = Date.now();
    await closing;

    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('cuts off requests still running after drainMs', async () => {
    const { app, slowStarted } = appWithSlowRoutes();
    const server = await serve({ app, port: 0, host: '127.0.0.1', logger, drainMs: 100 });

    const hanging = failureOf(fetch(`${server.url}/never`));
    await slowStarted;
    const started = Date.now();
    await server.close();

    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(await hanging).not.toMatch(/^answered/);
  });
});

/** The raw answer of a server to bytes written on one connection, until it closes. */
function rawExchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe('requests the HTTP parser refuses', () => {
  const bodyOf = (answer: string) => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));

  it('answers a URL past the header limit with 431 and the JSON error body', async () => {
    const server = await start(appWithSlowRoutes());
    const answer = await rawExchange(
      server.port,
      `GET /slow?q=${'x'.repeat(20_000)} HTTP/1.1\r\nHost: a\r\n\r\n`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    expect(answer).toMatch(/\r\nContent-Type: application\/json/);
    expect(bodyOf(answer)).toEqual({
      error: { code: 'headers_too_large', message: 'the request line and headers are too large' },
    });
  });

  it('answers bytes that are not HTTP with 400 and the JSON error body', async () => {
    const server = await start(appWithSlowRoutes());
    const answer = await rawExchange(server.port, 'HELLO THERE\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(bodyOf(answer)).toEqual({
      error: { code: 'invalid_request', message: 'the request is not valid HTTP' },
    });
    // The server still answers the next client.
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  });
});

describe('serveApp', () => {
  it('adds the error handlers, and marks the app draining before the server drains', async () => {
    const http = createHttpApp({ logger, metrics: createMetrics('kit-test') });
    const events: string[] = [];
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    http.app.get('/slow', async (_req, res) => {
      await released;
      res.json({ done: true });
    });
    const watched = { ...http, drain: () => (events.push('drain'), http.drain()) };
    const server = await serveApp(watched, { port: 0, host: '127.0.0.1', logger });
    const url = `http://127.0.0.1:${server.port}`;

    expect((await errorOf(await fetch(`${url}/nope`))).code).toBe('not_found');
    const slow = fetch(`${url}/slow`).then((res) => (events.push('answered'), res));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closing = server.close().then(() => events.push('closed'));
    expect(events).toEqual(['drain']);
    release();
    expect((await slow).status).toBe(200);
    await closing;
    expect(events.sort()).toEqual(['answered', 'closed', 'drain']);
  });
});
