import { randomBytes } from 'node:crypto';
import {
  link,
  mkdir,
  open,
  readdir,
  rename,
  rm,
  stat,
  unlink,
  type FileHandle,
} from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import {
  checkObjectKey,
  chunksOf,
  InvalidObjectKey,
  type ObjectBody,
  type ObjectStore,
  type PutOptions,
  type StoredObject,
} from './object-store.ts';

/** Where puts write before their rename; keys cannot start with a dot, so none collides. */
const TEMP = '.tmp';
/** Temp files older than this are left-overs of a crashed writer, swept at open. */
const STALE_TEMP_MS = 3_600_000;

/**
 * Objects as files under one folder (real mode on a single machine or a
 * shared volume). A put streams into a temp file in the same folder, fsyncs
 * it, then renames it into place (or links it, for ifNotExists, which fails
 * rather than replaces) and fsyncs the directory: a reader sees the whole
 * object or none, and a crash mid-write leaves only a temp file.
 */
export class LocalFolderObjectStore implements ObjectStore {
  readonly #root: string;
  #opened: Promise<void> | undefined;

  constructor(root: string) {
    this.#root = resolve(root);
  }

  get root(): string {
    return this.#root;
  }

  async put(
    key: string,
    body: ObjectBody,
    options: PutOptions = {},
  ): Promise<{ created: boolean; size: number }> {
    const target = this.#pathOf(key);
    await this.#open();

    const temp = join(this.#root, TEMP, `${randomBytes(12).toString('hex')}.part`);
    let size: number;
    try {
      size = await writeDurably(temp, body);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }

    try {
      await mkdir(dirname(target), { recursive: true });
      if (options.ifNotExists) {
        try {
          await link(temp, target);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'EEXIST') return { created: false, size };
          throw error;
        }
      } else {
        await rename(temp, target);
      }
      await syncDirectory(dirname(target));
      return { created: true, size };
    } finally {
      await rm(temp, { force: true });
    }
  }

  async get(key: string): Promise<StoredObject | undefined> {
    const path = this.#pathOf(key);
    let file: FileHandle;
    try {
      file = await open(path, 'r');
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
    const info = await file.stat();
    if (!info.isFile()) {
      await file.close();
      return undefined;
    }
    return { size: info.size, body: file.createReadStream() };
  }

  async head(key: string): Promise<{ size: number } | undefined> {
    try {
      const info = await stat(this.#pathOf(key));
      return info.isFile() ? { size: info.size } : undefined;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async delete(key: string): Promise<boolean> {
    const path = this.#pathOf(key);
    try {
      await unlink(path);
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
    await syncDirectory(dirname(path));
    return true;
  }

  async ping(): Promise<void> {
    await this.#open();
    const info = await stat(this.#root);
    if (!info.isDirectory()) throw new Error(`${this.#root} is not a directory`);
  }

  async close(): Promise<void> {}

  /** The key's file, refused when malformed or (belt and braces) outside the folder. */
  #pathOf(key: string): string {
    checkObjectKey(key);
    const path = resolve(this.#root, key);
    if (!path.startsWith(this.#root + sep)) throw new InvalidObjectKey(key);
    return path;
  }

  /** Creates the folders once and sweeps temp files a crashed writer left. */
  #open(): Promise<void> {
    this.#opened ??= (async () => {
      await mkdir(join(this.#root, TEMP), { recursive: true });
      const cutoff = Date.now() - STALE_TEMP_MS;
      for (const name of await readdir(join(this.#root, TEMP))) {
        const path = join(this.#root, TEMP, name);
        const info = await stat(path).catch(() => undefined);
        if (info && info.mtimeMs < cutoff) await rm(path, { force: true });
      }
    })().catch((error: unknown) => {
      this.#opened = undefined;
      throw error;
    });
    return this.#opened;
  }
}

/** Streams the body into a new file and fsyncs it; the number of bytes written. */
async function writeDurably(path: string, body: ObjectBody): Promise<number> {
  const file = await open(path, 'wx');
  try {
    let size = 0;
    for await (const chunk of chunksOf(body)) {
      let offset = 0;
      while (offset < chunk.length) {
        const { bytesWritten } = await file.write(chunk, offset, chunk.length - offset);
        offset += bytesWritten;
      }
      size += chunk.length;
    }
    await file.sync();
    return size;
  } finally {
    await file.close();
  }
}

/** A rename or link is durable once its directory is. */
async function syncDirectory(path: string): Promise<void> {
  const directory = await open(path, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}
