import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '@platform/kit/testing';
import { signUp, type Account } from './client.ts';
import { startChat, type ChatProcess } from './processes.ts';
import { startSystem, unique, type ChatSystem, type Servers } from './system.ts';

const MAX_BYTES = 1024 * 1024;
const UPLOADS_PER_USER = 4;
const UPLOADS_IN_FLIGHT = 12;

/** A gauge's value in the Prometheus text of /metrics. */
async function gauge(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
}
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

interface Uploaded {
  assetId: string;
  size: number;
  contentType: string;
}

describe.each<Servers>(['embedded', 'real'])('assets on %s servers', (servers) => {
  let system: ChatSystem;
  let api: string;
  let other: string;
  let alice: Account;
  let bob: Account;
  let second: ChatProcess | undefined;

  beforeAll(async () => {
    system = await startSystem(servers, 1);
    api = system.handlers[0]!.url;
    // On real servers a second API process, which must read what the first stored.
    if (servers === 'embedded') other = api;
    else {
      second = await startChat(
        'api-2',
        'api',
        { port: await freePort(), adminPort: await freePort() },
        system.env,
      );
      other = second.url;
    }
    [alice, bob] = await Promise.all([signUp(api, unique('alice')), signUp(api, unique('bob'))]);
  }, 120_000);

  afterAll(async () => {
    await second?.kill('SIGKILL');
    await system?.stop();
  });

  const upload = async (
    account: Account | undefined,
    body: Uint8Array | ReadableStream<Uint8Array>,
    contentType: string | null = 'image/png',
    base = api,
  ) => {
    const headers: Record<string, string> = {};
    if (account) headers.authorization = `Bearer ${account.token}`;
    if (contentType !== null) headers['content-type'] = contentType;
    const response = await fetch(`${base}/assets`, {
      method: 'POST',
      headers,
      body,
      ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit);
    const text = await response.text();
    return { status: response.status, json: text ? (JSON.parse(text) as unknown) : undefined };
  };
  const download = (id: string, account: Account | null = bob, headers = {}) =>
    fetch(`${other}/assets/${id}`, {
      headers: { ...(account ? { authorization: `Bearer ${account.token}` } : {}), ...headers },
    });
  const errorOf = (json: unknown) => (json as { error: { code: string; field?: string } }).error;

  test('an upload is named by its hash and streamed back with cache headers', async () => {
    const bytes = randomBytes(300_000);
    const created = await upload(alice, bytes, 'image/PNG; charset=binary');
    expect(created.status).toBe(201);
    expect(created.json).toEqual({
      assetId: sha256(bytes),
      size: bytes.length,
      contentType: 'image/png',
    });

    const response = await download(sha256(bytes));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(response.headers.get('content-length')).toBe(String(bytes.length));
    expect(response.headers.get('etag')).toBe(`"${sha256(bytes)}"`);
    expect(response.headers.get('cache-control')).toContain('immutable');
    expect(Buffer.from(await response.arrayBuffer()).equals(bytes)).toBe(true);

    const again = await download(sha256(bytes), bob, { 'if-none-match': `"${sha256(bytes)}"` });
    expect(again.status).toBe(304);
  });

  test('the same bytes again are the same asset, stored once, whoever sends them', async () => {
    const bytes = randomBytes(1000);
    const first = await upload(alice, bytes, 'image/jpeg');
    const second = await upload(bob, bytes, 'image/webp', other);
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(second.json).toEqual(first.json);
  });

  test('concurrent uploads of the same bytes: one 201, the rest 200, one object', async () => {
    const bytes = randomBytes(MAX_BYTES - 10);
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        upload(i % 2 ? alice : bob, bytes, 'video/mp4', i % 2 ? api : other),
      ),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
    for (const answer of answers) {
      expect((answer.json as Uploaded).assetId).toBe(sha256(bytes));
    }
    if (servers !== 'embedded') {
      const folder = system.env.OBJECT_STORE_DIR!;
      expect(readdirSync(join(folder, 'assets'))).toContain(sha256(bytes));
      expect(readdirSync(join(folder, '.tmp'))).toEqual([]);
    }
    const response = await download(sha256(bytes));
    expect(sha256(Buffer.from(await response.arrayBuffer()))).toBe(sha256(bytes));
  });

  test('uploads held open are capped per user and per process, and a cut one frees its slot', async () => {
    // Each upload sends one byte and then stalls: its bytes sit in memory until it ends.
    const stalled: AbortController[] = [];
    const stall = (account: Account) => {
      const abort = new AbortController();
      stalled.push(abort);
      const body = new ReadableStream<Uint8Array>({
        start: (controller) => controller.enqueue(new Uint8Array([1])),
      });
      void fetch(`${api}/assets`, {
        method: 'POST',
        headers: { authorization: `Bearer ${account.token}`, 'content-type': 'image/png' },
        body,
        duplex: 'half',
        signal: abort.signal,
      } as RequestInit).catch(() => undefined);
    };
    const inFlight = () => gauge(api, 'chat_asset_uploads_in_flight');
    const until = async (check: () => Promise<boolean>) => {
      const deadline = Date.now() + 10_000;
      while (!(await check())) {
        if (Date.now() > deadline) throw new Error('timed out');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    const carol = await signUp(api, unique('carol'));
    try {
      for (let i = 0; i < UPLOADS_PER_USER; i++) stall(carol);
      await until(async () => (await inFlight()) === UPLOADS_PER_USER);
      const one = await upload(carol, randomBytes(10));
      expect(one.status).toBe(429);
      expect(errorOf(one.json)).toMatchObject({ code: 'too_many_uploads', field: 'body' });
      expect((await upload(bob, randomBytes(10))).status).toBe(201);

      // Others fill the process: then anyone's next upload waits its turn (503).
      const others = await Promise.all(
        Array.from({ length: UPLOADS_IN_FLIGHT / UPLOADS_PER_USER - 1 }, (_, i) =>
          signUp(api, unique(`filler${i}`)),
        ),
      );
      for (const account of others) for (let i = 0; i < UPLOADS_PER_USER; i++) stall(account);
      await until(async () => (await inFlight()) === UPLOADS_IN_FLIGHT);
      const busy = await upload(bob, randomBytes(10));
      expect(busy.status).toBe(503);
      expect(errorOf(busy.json)).toMatchObject({ code: 'uploads_busy' });
    } finally {
      for (const abort of stalled) abort.abort();
    }
    // Cut uploads give their slots back; nothing of them is stored.
    await until(async () => (await inFlight()) === 0);
    expect((await upload(carol, randomBytes(10))).status).toBe(201);
    expect((await download(sha256(new Uint8Array([1])))).status).toBe(404);
  });

  test('limits: size (declared or streamed), emptiness, content type, token, ids', async () => {
    const tooBig = randomBytes(MAX_BYTES + 1);
    const declared = await upload(alice, tooBig);
    expect(declared.status).toBe(413);
    expect(errorOf(declared.json)).toMatchObject({ code: 'asset_too_large', field: 'body' });
    // Chunked, so only counting the bytes can tell.
    const streamed = await upload(
      alice,
      new ReadableStream({
        start(controller) {
          for (let offset = 0; offset < tooBig.length; offset += 64 * 1024) {
            controller.enqueue(tooBig.subarray(offset, offset + 64 * 1024));
          }
          controller.close();
        },
      }),
    );
    expect(streamed.status).toBe(413);
    expect((await download(sha256(tooBig))).status).toBe(404);

    const atLimit = await upload(alice, tooBig.subarray(0, MAX_BYTES));
    expect(atLimit.status).toBe(201);

    const empty = await upload(alice, new Uint8Array(0));
    expect(empty.status).toBe(400);
    expect(errorOf(empty.json)).toMatchObject({ code: 'empty_asset', field: 'body' });
    const untyped = await upload(alice, Buffer.from('x'), null);
    expect(untyped.status).toBe(400);
    expect(errorOf(untyped.json)).toMatchObject({ field: 'content-type' });
    for (const type of ['text/html', 'application/json', 'image/svg+xml']) {
      const refused = await upload(alice, Buffer.from('<svg/>'), type);
      expect(refused.status).toBe(415);
      expect(errorOf(refused.json)).toMatchObject({
        code: 'unsupported_asset_type',
        field: 'content-type',
      });
    }
    expect((await download(sha256(Buffer.from('<svg/>')))).status).toBe(404);
    expect((await upload(undefined, Buffer.from('x'))).status).toBe(401);

    expect((await download('0'.repeat(64))).status).toBe(404);
    expect((await download('not-a-hash')).status).toBe(400);
    expect((await download('A'.repeat(64))).status).toBe(400);
    expect((await download(sha256(tooBig.subarray(0, MAX_BYTES)), null)).status).toBe(401);
  });
});
