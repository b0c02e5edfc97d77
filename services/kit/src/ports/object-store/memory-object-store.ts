import { Readable } from 'node:stream';
import {
  checkObjectKey,
  chunksOf,
  type ObjectBody,
  type ObjectStore,
  type PutOptions,
  type StoredObject,
} from './object-store.ts';

/**
 * Objects in this process's memory (embedded mode). A put gathers its body
 * and lands in the map only once the body has ended, so a failed or aborted
 * stream leaves nothing behind.
 */
export class MemoryObjectStore implements ObjectStore {
  readonly #objects = new Map<string, Buffer>();

  async put(
    key: string,
    body: ObjectBody,
    options: PutOptions = {},
  ): Promise<{ created: boolean; size: number }> {
    checkObjectKey(key);
    const chunks: Uint8Array[] = [];
    for await (const chunk of chunksOf(body)) chunks.push(chunk);
    const bytes = Buffer.concat(chunks);

    if (options.ifNotExists && this.#objects.has(key))
      return { created: false, size: bytes.length };
    this.#objects.set(key, bytes);
    return { created: true, size: bytes.length };
  }

  async get(key: string): Promise<StoredObject | undefined> {
    checkObjectKey(key);
    const bytes = this.#objects.get(key);
    return bytes && { size: bytes.length, body: Readable.from([bytes]) };
  }

  async head(key: string): Promise<{ size: number } | undefined> {
    checkObjectKey(key);
    const bytes = this.#objects.get(key);
    return bytes && { size: bytes.length };
  }

  async delete(key: string): Promise<boolean> {
    checkObjectKey(key);
    return this.#objects.delete(key);
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {}
}
