import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { InvalidObjectKey, type ObjectStore } from '../ports/object-store/object-store.ts';

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** A body that arrives in pieces, yielding to the event loop between them. */
async function* pieces(bytes: Buffer, size = 64 * 1024): AsyncIterable<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += size) {
    await tick();
    yield bytes.subarray(offset, offset + size);
  }
}

/** A body that sends some bytes, then fails, as a client that goes away mid-upload. */
async function* brokenAfter(bytes: Buffer): AsyncIterable<Uint8Array> {
  yield* pieces(bytes);
  throw new Error('connection reset');
}

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** The behaviour every object-store adapter must have; run once per adapter. */
export function objectStoreContract(name: string, open: () => Promise<ObjectStore>): void {
  describe(`object-store contract: ${name}`, () => {
    let store: ObjectStore;
    const prefix = `contract-${randomBytes(4).toString('hex')}`;
    const key = (name: string) => `${prefix}/${name}`;
    const read = async (k: string) => {
      const object = await store.get(k);
      return object && { size: object.size, bytes: await readAll(object.body) };
    };

    beforeAll(async () => {
      store = await open();
      await store.ping();
    });
    afterAll(async () => {
      await store.close();
    });

    it('reads back what it stored, byte for byte, and knows its size', async () => {
      const bytes = Buffer.from([0, 255, 10, 13, 0x80, 7]);
      expect(await store.put(key('small.bin'), bytes)).toEqual({ created: true, size: 6 });
      expect(await read(key('small.bin'))).toEqual({ size: 6, bytes });
      expect(await store.head(key('small.bin'))).toEqual({ size: 6 });
      expect(await store.get(key('missing'))).toBeUndefined();
      expect(await store.head(key('missing'))).toBeUndefined();
      expect(await store.put(key('empty'), Buffer.alloc(0))).toEqual({ created: true, size: 0 });
      expect(await read(key('empty'))).toEqual({ size: 0, bytes: Buffer.alloc(0) });
    });

    it('streams a large object in and out', async () => {
      const bytes = randomBytes(6 * 1024 * 1024 + 123);
      const put = await store.put(key('big/object.bin'), pieces(bytes));
      expect(put).toEqual({ created: true, size: bytes.length });
      const object = await store.get(key('big/object.bin'));
      expect(object?.size).toBe(bytes.length);
      const hash = createHash('sha256');
      let chunks = 0;
      for await (const chunk of object!.body) {
        hash.update(chunk as Buffer);
        chunks += 1;
      }
      expect(hash.digest('hex')).toBe(sha256(bytes));
      expect(chunks).toBeGreaterThanOrEqual(1);
    });

    it('replaces an object whole, unless told to keep the first', async () => {
      await store.put(key('doc'), Buffer.from('first'));
      expect(await store.put(key('doc'), Buffer.from('second!'))).toEqual({
        created: true,
        size: 7,
      });
      expect((await read(key('doc')))?.bytes.toString()).toBe('second!');
      expect(await store.put(key('doc'), Buffer.from('third'), { ifNotExists: true })).toEqual({
        created: false,
        size: 5,
      });
      expect((await read(key('doc')))?.bytes.toString()).toBe('second!');
    });

    it('gives exactly one winner to concurrent puts of a key that must not exist', async () => {
      const bodies = Array.from({ length: 8 }, () => randomBytes(300 * 1024));
      const results = await Promise.all(
        bodies.map((body) => store.put(key('race-once'), pieces(body), { ifNotExists: true })),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
      const winner = results.findIndex((r) => r.created);
      expect(sha256((await read(key('race-once')))!.bytes)).toBe(sha256(bodies[winner]!));
    });

    it('leaves one whole body, never a mix, after concurrent replacing puts', async () => {
      const bodies = Array.from({ length: 8 }, () => randomBytes(300 * 1024));
      const results = await Promise.all(
        bodies.map((body) => store.put(key('race-replace'), pieces(body))),
      );
      expect(results.every((r) => r.created)).toBe(true);
      const stored = sha256((await read(key('race-replace')))!.bytes);
      expect(bodies.map(sha256)).toContain(stored);
    });

    it('shows nothing of a put still streaming, then all of it', async () => {
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const half = randomBytes(256 * 1024);
      async function* slow(): AsyncIterable<Uint8Array> {
        yield half;
        await released;
        yield half;
      }
      const put = store.put(key('in-flight'), slow());
      for (let i = 0; i < 20; i++) await tick();
      expect(await store.head(key('in-flight'))).toBeUndefined();
      expect(await store.get(key('in-flight'))).toBeUndefined();
      release();
      expect(await put).toEqual({ created: true, size: 2 * half.length });
      expect((await read(key('in-flight')))?.bytes.equals(Buffer.concat([half, half]))).toBe(true);
    });

    it('never shows a write whose body failed midway', async () => {
      const bytes = randomBytes(512 * 1024);
      await expect(store.put(key('aborted'), brokenAfter(bytes))).rejects.toThrow(
        'connection reset',
      );
      expect(await store.get(key('aborted'))).toBeUndefined();
      expect(await store.head(key('aborted'))).toBeUndefined();
      // The key is still free, and a failed replace keeps the object it would have replaced.
      expect(
        (await store.put(key('aborted'), Buffer.from('ok'), { ifNotExists: true })).created,
      ).toBe(true);
      await expect(store.put(key('aborted'), brokenAfter(bytes))).rejects.toThrow();
      expect((await read(key('aborted')))?.bytes.toString()).toBe('ok');
    });

    it.each([
      '',
      '..',
      '../escape',
      `${'a/'.repeat(3)}../../../../escape`,
      '/etc/passwd',
      'a//b',
      'a/./b',
      'a/../b',
      '.hidden',
      'a/.tmp',
      'a\\..\\b',
      'trailing/',
      'nul\0byte',
      'x'.repeat(513),
    ])('refuses the key %j on every operation', async (bad) => {
      await expect(store.put(bad, Buffer.from('x'))).rejects.toBeInstanceOf(InvalidObjectKey);
      await expect(store.get(bad)).rejects.toBeInstanceOf(InvalidObjectKey);
      await expect(store.head(bad)).rejects.toBeInstanceOf(InvalidObjectKey);
      await expect(store.delete(bad)).rejects.toBeInstanceOf(InvalidObjectKey);
    });

    it('deletes', async () => {
      await store.put(key('gone'), Buffer.from('x'));
      expect(await store.delete(key('gone'))).toBe(true);
      expect(await store.get(key('gone'))).toBeUndefined();
      expect(await store.delete(key('gone'))).toBe(false);
    });
  });
}
