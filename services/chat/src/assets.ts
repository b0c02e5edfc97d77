import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { ObjectStore } from '@platform/kit';
import { ASSET_ID } from './domain/events.ts';
import { chatError } from './errors.ts';
import type { Asset, AssetStore } from './store/asset.store.ts';

export interface Upload {
  uploadedBy: string;
  /** The request's Content-Type header, parameters and all. */
  contentType: string | undefined;
  /** The request's Content-Length, when it declared one. */
  declaredBytes: number | undefined;
  body: AsyncIterable<Uint8Array>;
}

const objectKey = (assetId: string) => `assets/${assetId}`;

/**
 * Media by content: an asset's id is the hash of its bytes, so the same
 * bytes uploaded twice (or by two uploads racing) are stored once. The bytes
 * go to the object store first, created only if absent; then the asset's row
 * is written if absent, and whichever upload writes it answers 201. A row
 * therefore always has its object.
 */
export class AssetService {
  readonly #objects: ObjectStore;
  readonly #store: AssetStore;
  readonly #maxBytes: number;
  readonly #types: ReadonlySet<string>;
  readonly #maxPerUser: number;
  readonly #maxInFlight: number;
  readonly #gauge: { set(value: number): void } | undefined;
  /** Uploads being read, by user: each holds up to maxBytes in memory until it ends. */
  readonly #inFlight = new Map<string, number>();
  #total = 0;

  constructor(deps: {
    objects: ObjectStore;
    store: AssetStore;
    maxBytes: number;
    types: readonly string[];
    /** Uploads one user may have in flight at once (429 beyond). */
    maxUploadsPerUser: number;
    /** Uploads this process reads at once (503 beyond): memory is at most this many maxBytes. */
    maxUploadsInFlight: number;
    inFlightGauge?: { set(value: number): void };
  }) {
    this.#objects = deps.objects;
    this.#store = deps.store;
    this.#maxBytes = deps.maxBytes;
    this.#types = new Set(deps.types.map((type) => type.toLowerCase()));
    this.#maxPerUser = deps.maxUploadsPerUser;
    this.#maxInFlight = deps.maxUploadsInFlight;
    this.#gauge = deps.inFlightGauge;
  }

  /** Stores an upload unless its bytes are stored already; created says which. */
  async upload(upload: Upload): Promise<{ asset: Asset; created: boolean }> {
    const contentType = this.#checkType(upload.contentType);
    if (upload.declaredBytes !== undefined && upload.declaredBytes > this.#maxBytes) {
      throw this.#tooLarge();
    }
    const user = upload.uploadedBy;
    const mine = this.#inFlight.get(user) ?? 0;
    if (mine >= this.#maxPerUser) throw chatError('too_many_uploads', { field: 'body' });
    if (this.#total >= this.#maxInFlight) throw chatError('uploads_busy', { field: 'body' });
    this.#inFlight.set(user, mine + 1);
    this.#gauge?.set(++this.#total);
    try {
      return await this.#read(upload, contentType);
    } finally {
      const left = this.#inFlight.get(user)! - 1;
      if (left === 0) this.#inFlight.delete(user);
      else this.#inFlight.set(user, left);
      this.#gauge?.set(--this.#total);
    }
  }

  async #read(upload: Upload, contentType: string): Promise<{ asset: Asset; created: boolean }> {
    // TODO(#5): held in memory (at most MAX_ASSET_BYTES) because the key is the hash of
    // the whole body; staging it under a temporary key and renaming would stream it.
    const hash = createHash('sha256');
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of upload.body) {
      size += chunk.length;
      if (size > this.#maxBytes) throw this.#tooLarge();
      hash.update(chunk);
      chunks.push(chunk);
    }
    if (size === 0) throw chatError('empty_asset', { field: 'body' });
    const assetId = hash.digest('hex');

    await this.#objects.put(objectKey(assetId), Buffer.concat(chunks), { ifNotExists: true });
    const asset = {
      assetId,
      contentType,
      size,
      uploadedBy: upload.uploadedBy,
      createdAt: Date.now(),
    };
    if (await this.#store.create(asset)) return { asset, created: true };
    const first = await this.#store.get(assetId);
    if (!first) throw new Error(`asset ${assetId} vanished`);
    return { asset: first, created: false };
  }

  /** The asset and its bytes, streamed, or undefined when there is none. */
  async open(assetId: string): Promise<{ asset: Asset; body: Readable } | undefined> {
    if (!ASSET_ID.test(assetId)) throw chatError('invalid_asset_id', { field: 'id' });
    const asset = await this.#store.get(assetId);
    if (!asset) return undefined;
    // Embedded, objects live in memory while rows outlive a restart: such an asset is gone
    // until its bytes are uploaded again (which stores the object, the row being there).
    const object = await this.#objects.get(objectKey(assetId));
    if (!object) return undefined;
    return { asset: { ...asset, size: object.size }, body: object.body };
  }

  /**
   * Refuses ids that are malformed or name no asset, naming the first such
   * (`<field>.<index>`). The rows are read at once; a row always has its object.
   */
  async requireAll(assetIds: readonly string[], field: string): Promise<void> {
    const found = await Promise.all(
      assetIds.map(async (assetId) => ASSET_ID.test(assetId) && !!(await this.#store.get(assetId))),
    );
    const missing = found.indexOf(false);
    if (missing >= 0) throw chatError('attachment_not_found', { field: `${field}.${missing}` });
  }

  #checkType(header: string | undefined): string {
    if (header === undefined || header.trim() === '') {
      throw chatError('content_type_required', { field: 'content-type' });
    }
    const type = header.split(';')[0]!.trim().toLowerCase();
    if (!this.#types.has(type))
      throw chatError('unsupported_asset_type', { field: 'content-type' });
    return type;
  }

  #tooLarge() {
    return chatError('asset_too_large', {
      field: 'body',
      message: `an asset is at most ${this.#maxBytes} bytes`,
    });
  }
}
