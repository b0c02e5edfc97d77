import { pino } from 'pino';
import { z } from 'zod';
import { createMetrics } from '../telemetry/metrics.ts';
import { createHttpApp, type HttpApp, type HttpAppOptions } from './app.ts';
import { httpError } from './errors.ts';
import { serve, type RunningServer } from './server.ts';
import { parseInput } from './validate.ts';

interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

interface Started {
  url: string;
  http: HttpApp;
  logs: LogLine[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const order = z.object({
  customer: z.string().min(1),
  items: z.array(z.object({ sku: z.string(), qty: z.number().int().positive() })).min(1),
});

const running: RunningServer[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
});

/** Starts an app with a few test routes on a free loopback port; its log lines land in `logs`. */
async function start(
  options: Partial<HttpAppOptions> = {},
  routes: (http: HttpApp) => void = () => undefined,
): Promise<Started> {
  const logs: LogLine[] = [];
  const logger = pino(
    { level: 'info', formatters: { level: (label) => ({ level: label }) } },
    { write: (line: string) => logs.push(JSON.parse(line) as LogLine) },
  );
  const http = createHttpApp({ logger, metrics: createMetrics('kit-test'), ...options });

  http.app.get('/things/:id', (req, res) => {
    res.json({ id: req.params.id });
  });
  http.app.get('/boom', () => {
    throw new Error('connection to db-primary:5432 failed for user admin');
  });
  http.app.get('/busy', () => {
    throw httpError('conflict');
  });
  http.app.post('/echo', (req, res) => {
    res.json({ received: req.body as unknown });
  });
  http.app.post('/orders', (req, res) => {
    res.status(201).json(parseInput(order, req.body));
  });
  routes(http);

  const server = await serve({ app: http.finish(), port: 0, host: '127.0.0.1', logger });
  running.push(server);
  return { url: server.url, http, logs };
}

/** The `error` object of a JSON error answer. */
async function errorOf(res: Response): Promise<Record<string, unknown>> {
  return ((await res.json()) as { error: Record<string, unknown> }).error;
}

function postJson(url: string, body: string, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
}

describe('request ids', () => {
  it('generates a fresh uuid per request when none is sent', async () => {
    const { url } = await start();

    const first = await fetch(`${url}/healthz`);
    const second = await fetch(`${url}/healthz`);

    expect(first.headers.get('x-request-id')).toMatch(UUID);
    expect(second.headers.get('x-request-id')).toMatch(UUID);
    expect(first.headers.get('x-request-id')).not.toBe(second.headers.get('x-request-id'));
  });

  it.each(['req-42', 'edge.7:ab_CD-9', 'a'.repeat(64)])('echoes the safe id %s', async (id) => {
    const { url } = await start();

    const res = await fetch(`${url}/healthz`, { headers: { 'x-request-id': id } });

    expect(res.headers.get('x-request-id')).toBe(id);
  });

  it.each([
    ['65 characters', 'a'.repeat(65)],
    ['200 characters', 'x'.repeat(200)],
    ['spaces', 'two words'],
    ['markup', '<script>'],
    ['a slash', 'a/b'],
  ])('replaces an id with %s', async (_what, id) => {
    const { url } = await start();

    const res = await fetch(`${url}/healthz`, { headers: { 'x-request-id': id } });

    expect(res.headers.get('x-request-id')).toMatch(UUID);
  });

  it('puts the request id in error bodies and the request log line', async () => {
    const { url, logs } = await start();

    const res = await fetch(`${url}/nowhere`, { headers: { 'x-request-id': 'trace-1' } });
    await res.json();

    expect(logs).toContainEqual(
      expect.objectContaining({ msg: 'request', requestId: 'trace-1', status: 404 }),
    );
  });
});

describe('errors', () => {
  it('answers an unknown route with a JSON 404', async () => {
    const { url } = await start();

    const res = await fetch(`${url}/nowhere`);

    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({
      error: {
        code: 'not_found',
        message: 'not found',
        requestId: res.headers.get('x-request-id'),
      },
    });
  });

  it('answers a plain Error with a generic 500 that leaks nothing', async () => {
    const { url } = await start();

    const res = await fetch(`${url}/boom`);
    const text = await res.text();

    expect(res.status).toBe(500);
    expect(JSON.parse(text)).toEqual({
      error: {
        code: 'internal',
        message: 'internal error',
        requestId: res.headers.get('x-request-id'),
      },
    });
    expect(text).not.toMatch(/db-primary|admin|app\.test|at /);
  });

  it('logs a 500 once at error, with its cause and request id', async () => {
    const { url, logs } = await start();

    const res = await fetch(`${url}/boom`);
    await res.text();

    const errors = logs.filter((line) => line.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      msg: 'request failed',
      requestId: res.headers.get('x-request-id'),
      err: { message: expect.stringContaining('db-primary:5432') },
    });
  });

  it('answers an AppError with its catalogue entry and does not log it as an error', async () => {
    const { url, logs } = await start();

    const res = await fetch(`${url}/busy`);

    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({
      error: {
        code: 'conflict',
        message: 'the resource is in a conflicting state',
        requestId: res.headers.get('x-request-id'),
      },
    });
    expect(logs.filter((line) => line.level === 'error')).toEqual([]);
  });

  it('answers a body that is not JSON with 400 naming the body', async () => {
    const { url } = await start();

    const res = await postJson(`${url}/echo`, '{"customer": ');

    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({
      code: 'invalid_request',
      field: 'body',
      message: 'the body is not valid JSON',
    });
  });

  it('answers valid JSON that is neither an object nor an array with 400 saying so', async () => {
    const { url } = await start();

    for (const body of ['null', '"text"', ' 42 ']) {
      const res = await postJson(`${url}/echo`, body);
      expect(res.status).toBe(400);
      expect(await errorOf(res)).toMatchObject({
        code: 'invalid_request',
        field: 'body',
        message: 'the body must be a JSON object or array',
      });
    }
  });

  it('answers a body over the limit with 413 and accepts one under it', async () => {
    const { url } = await start({ bodyLimit: '1kb' });

    const small = await postJson(`${url}/echo`, JSON.stringify({ note: 'x'.repeat(900) }));
    const large = await postJson(`${url}/echo`, JSON.stringify({ note: 'x'.repeat(2000) }));

    expect(small.status).toBe(200);
    expect(await small.json()).toEqual({ received: { note: 'x'.repeat(900) } });
    expect(large.status).toBe(413);
    expect(await errorOf(large)).toMatchObject({ code: 'payload_too_large', field: 'body' });
  });

  it('answers a body that is not JSON with 415 naming the content type', async () => {
    const { url } = await start();

    const text = await postJson(`${url}/echo`, '{"a":1}', { 'content-type': 'text/plain' });
    const form = await postJson(`${url}/echo`, 'a=1', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    const json = await postJson(`${url}/echo`, '{"a":1}', {
      'content-type': 'application/json; charset=utf-8',
    });

    expect(text.status).toBe(415);
    expect(await errorOf(text)).toMatchObject({
      code: 'unsupported_media_type',
      field: 'content-type',
    });
    expect(form.status).toBe(415);
    expect(json.status).toBe(200);
  });

  it('leaves the bodies of raw-body paths unread, whatever their type, for the route', async () => {
    const { url } = await start({ rawBodyPaths: ['/upload'] }, (http) =>
      http.app.post('/upload', async (req, res) => {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        res.json({ type: req.headers['content-type'], bytes: Buffer.concat(chunks).length });
      }),
    );

    const image = await postJson(`${url}/upload`, 'x'.repeat(40_000), {
      'content-type': 'image/png',
    });
    const json = await postJson(`${url}/upload`, '{"a":1}');
    const elsewhere = await postJson(`${url}/echo`, 'abc', { 'content-type': 'image/png' });

    expect(await image.json()).toEqual({ type: 'image/png', bytes: 40_000 });
    expect(await json.json()).toEqual({ type: 'application/json', bytes: 7 });
    expect(elsewhere.status).toBe(415);
  });

  it('answers a charset it cannot decode with 415', async () => {
    const { url } = await start();

    const res = await postJson(`${url}/echo`, '{}', {
      'content-type': 'application/json; charset=latin1',
    });

    expect(res.status).toBe(415);
    expect(await errorOf(res)).toMatchObject({
      code: 'unsupported_media_type',
      field: 'body',
    });
  });
});

describe('validated routes', () => {
  it('names the nested field that is wrong', async () => {
    const { url } = await start();

    const res = await postJson(
      `${url}/orders`,
      JSON.stringify({ customer: 'c-1', items: [{ sku: 'A', qty: 0 }] }),
    );

    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({
      code: 'invalid_request',
      field: 'items.0.qty',
      message: expect.any(String),
    });
  });

  it('names the body when the whole body has the wrong shape', async () => {
    const { url } = await start();

    const res = await postJson(`${url}/orders`, '[]');

    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ code: 'invalid_request', field: 'body' });
  });

  it('hands the parsed input to the route', async () => {
    const { url } = await start();
    const input = { customer: 'c-1', items: [{ sku: 'A', qty: 2 }], ignored: true };

    const res = await postJson(`${url}/orders`, JSON.stringify(input));

    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ customer: 'c-1', items: [{ sku: 'A', qty: 2 }] });
  });
});

describe('health and readiness', () => {
  it('answers /healthz without consulting the checks', async () => {
    const { url } = await start({ readiness: { db: () => Promise.reject(new Error('down')) } });

    const res = await fetch(`${url}/healthz`);

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('is ready when every check passes', async () => {
    const { url } = await start({
      readiness: { db: async () => {}, cache: async () => {} },
    });

    const res = await fetch(`${url}/readyz`);

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', checks: { db: 'ok', cache: 'ok' } });
  });

  it('answers 503 naming the check that fails', async () => {
    const { url } = await start({
      readiness: {
        db: async () => {},
        cache: () => Promise.reject(new Error('ECONNREFUSED 10.0.0.7:6379')),
      },
    });

    const res = await fetch(`${url}/readyz`);

    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      status: 'unavailable',
      checks: { db: 'ok', cache: 'failed' },
    });
  });

  it('answers 503 for a check that hangs past checkTimeoutMs', async () => {
    const { url } = await start({
      checkTimeoutMs: 50,
      readiness: { db: async () => {}, broker: () => new Promise<void>(() => {}) },
    });

    const started = Date.now();
    const res = await fetch(`${url}/readyz`);

    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      status: 'unavailable',
      checks: { db: 'ok', broker: 'failed' },
    });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('answers 503 draining after drain(), while /healthz stays up', async () => {
    const { url, http } = await start({ readiness: { db: async () => {} } });
    expect((await fetch(`${url}/readyz`)).status).toBe(200);

    http.drain();
    const ready = await fetch(`${url}/readyz`);
    const health = await fetch(`${url}/healthz`);

    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'draining' });
    expect(health.status).toBe(200);
  });
});

describe('metrics', () => {
  async function durationCounts(url: string): Promise<string[]> {
    const text = await (await fetch(`${url}/metrics`)).text();
    return text
      .split('\n')
      .filter((line) => line.startsWith('http_server_request_duration_seconds_count{'));
  }

  it('labels requests with the route pattern, never the raw path', async () => {
    const { url } = await start();

    await (await fetch(`${url}/things/41`)).text();
    await (await fetch(`${url}/things/42`)).text();
    const text = await (await fetch(`${url}/metrics`)).text();

    expect(text).toContain('http_server_request_duration_seconds_bucket{');
    expect(text).toMatch(/_bucket\{[^}]*route="\/things\/:id"/);
    expect(text).not.toContain('/things/41');
    expect(text).not.toContain('/things/42');
    expect(await durationCounts(url)).toContainEqual(
      expect.stringMatching(/route="\/things\/:id".*status_code="200".* 2$/),
    );
  });

  it('labels unknown routes as unmatched and failed routes by their pattern', async () => {
    const { url } = await start();

    await (await fetch(`${url}/no/such/path`)).text();
    await (await fetch(`${url}/boom`)).text();
    const counts = await durationCounts(url);

    expect(counts).toContainEqual(
      expect.stringMatching(/route="unmatched".*status_code="404".* 1$/),
    );
    expect(counts).toContainEqual(expect.stringMatching(/route="\/boom".*status_code="500".* 1$/));
    expect(counts.join('\n')).not.toContain('/no/such/path');
  });

  it('serves the prometheus text format', async () => {
    const { url } = await start();

    const res = await fetch(`${url}/metrics`);

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await res.text()).toContain('# TYPE http_server_request_duration_seconds histogram');
  });
});
