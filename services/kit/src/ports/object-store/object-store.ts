import type { Readable } from 'node:stream';

/** What a put may read from: bytes at hand, or a stream (never gathered whole on disk adapters). */
export type ObjectBody = Uint8Array | Readable | AsyncIterable<Uint8Array>;

export interface PutOptions {
  /**
   * Store only when no object has the key yet; the result says whether this
   * put did. Without it a put replaces the object whole.
   */
  ifNotExists?: boolean;
}

export interface StoredObject {
  size: number;
  /** The object's bytes, streamed; read it to the end or destroy it. */
  body: Readable;
}

/**
 * Objects (media, exports) by key. A put becomes visible whole or not at
 * all: a reader never sees a partial object, also after a crash mid-write.
 * Keys are one or more `/`-separated segments of letters, digits, `.`, `_`
 * and `-`, each starting with a letter or digit, at most 512 characters.
 */
export interface ObjectStore {
  put(
    key: string,
    body: ObjectBody,
    options?: PutOptions,
  ): Promise<{ created: boolean; size: number }>;
  /** The object, or undefined when there is none. */
  get(key: string): Promise<StoredObject | undefined>;
  /** The object's size, or undefined when there is none. */
  head(key: string): Promise<{ size: number } | undefined>;
  /** Removes the object; true when there was one. */
  delete(key: string): Promise<boolean>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** A key that is not one, e.g. one that would climb out of the store's folder. */
export class InvalidObjectKey extends Error {
  constructor(key: string) {
    super(`invalid object key ${JSON.stringify(key.slice(0, 80))}`);
    this.name = 'InvalidObjectKey';
  }
}

const SEGMENT = /^[A-Za-z0-9][\w.-]*$/;

/** Throws InvalidObjectKey unless the key is well formed. */
export function checkObjectKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > 512)
    throw new InvalidObjectKey(key);
  if (!key.split('/').every((segment) => SEGMENT.test(segment))) throw new InvalidObjectKey(key);
}

/** The chunks of a body, as buffers. */
export async function* chunksOf(body: ObjectBody): AsyncIterable<Uint8Array> {
  if (body instanceof Uint8Array) {
    yield body;
    return;
  }
  for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
    yield typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
  }
}
