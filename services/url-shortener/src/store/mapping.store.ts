import { LRUCache } from 'lru-cache';
import type { Cache, TableSpec, WideColumn } from '@platform/kit';
import { ConfigError } from '@platform/kit/config';

export interface Mapping {
  code: string;
  /** The target exactly as stored; the redirect's Location. */
  target: string;
  createdAt: number;
  expiresAt: number | null;
}

export const MAPPINGS_TABLE: TableSpec = {
  name: 'url_mappings',
  columns: { code: 'text', target: 'text', created_at: 'timestamp', expires_at: 'timestamp' },
  partitionKey: ['code'],
};

/** The code space the generated codes of this store come from (one row). */
export const CODE_SPACE_TABLE: TableSpec = {
  name: 'url_code_space',
  columns: { name: 'text', fingerprint: 'text' },
  partitionKey: ['name'],
};

const REDIS_TTL_MS = 3600_000;
const ABSENT_TTL_MS = 30_000;
const ABSENT = '-';

export interface MappingStoreOptions {
  nearCacheSize: number;
  nearCacheTtlMs: number;
  now?: () => number;
}

/**
 * Mappings live in the wide-column store; Redis caches hot codes and each
 * process keeps a small near cache in front of it. A mapping never changes
 * once written, so the only staleness a cache can have is an expiry, which
 * every read checks against the stored time.
 */
export class MappingStore {
  readonly #wide: WideColumn;
  readonly #cache: Cache;
  readonly #near: LRUCache<string, Mapping>;
  readonly #now: () => number;

  constructor(wide: WideColumn, cache: Cache, options: MappingStoreOptions) {
    this.#wide = wide;
    this.#cache = cache;
    this.#near = new LRUCache({ max: options.nearCacheSize, ttl: options.nearCacheTtlMs });
    this.#now = options.now ?? Date.now;
  }

  /**
   * Creates the tables and claims the store for one code space. Generated
   * codes are written without a uniqueness check, so codes of another secret
   * or length would overwrite existing links: a mismatch refuses to start.
   */
  async init(codeSpaceFingerprint: string): Promise<void> {
    await this.#wide.defineTables([MAPPINGS_TABLE, CODE_SPACE_TABLE]);
    const claim = { name: 'generated-codes', fingerprint: codeSpaceFingerprint };
    await this.#wide.insert(CODE_SPACE_TABLE.name, claim, { ifNotExists: true });
    const held = await this.#wide.get(CODE_SPACE_TABLE.name, { name: claim.name });
    if (held?.fingerprint !== codeSpaceFingerprint) {
      throw new ConfigError(
        'CODE_SECRET',
        'this store holds codes of another secret or code length (WRITE_RPS, ' +
          'RETENTION_DAYS); new codes would overwrite its links. Set them back, or use ' +
          'an empty keyspace',
      );
    }
  }

  /**
   * Writes a mapping. Generated codes are unique by construction and written
   * plainly; an alias is written only if no live mapping holds it (false when taken).
   */
  async create(mapping: Mapping, options: { alias: boolean }): Promise<boolean> {
    const ttlSeconds = mapping.expiresAt
      ? Math.max(1, Math.ceil((mapping.expiresAt - this.#now()) / 1000))
      : undefined;
    const written = await this.#wide.insert(
      MAPPINGS_TABLE.name,
      {
        code: mapping.code,
        target: mapping.target,
        created_at: mapping.createdAt,
        expires_at: mapping.expiresAt,
      },
      { ttlSeconds, ifNotExists: options.alias },
    );
    if (written) await this.#remember(mapping);
    return written;
  }

  /** The live mapping of a code from the near cache, without waiting; undefined on a miss. */
  peek(code: string): Mapping | undefined {
    const mapping = this.#near.get(code);
    if (mapping && this.#expired(mapping)) {
      this.#near.delete(code);
      return undefined;
    }
    return mapping;
  }

  /** The live mapping of a code: near cache, then Redis, then the wide-column store. */
  async find(code: string): Promise<Mapping | undefined> {
    const near = this.peek(code);
    if (near) return near;

    // The cache is an optimisation: when it fails, read through to the store.
    const cached = await this.#cache.get(mappingCacheKey(code)).catch(() => undefined);
    if (cached === ABSENT) return undefined;
    if (cached !== undefined) {
      const mapping = JSON.parse(cached) as Mapping;
      if (this.#expired(mapping)) return undefined;
      this.#near.set(code, mapping);
      return mapping;
    }

    const row = await this.#wide.get(MAPPINGS_TABLE.name, { code });
    if (!row) {
      await this.#cache
        .set(mappingCacheKey(code), ABSENT, { ttlMs: ABSENT_TTL_MS })
        .catch(() => undefined);
      return undefined;
    }
    const mapping: Mapping = {
      code,
      target: row.target as string,
      createdAt: row.created_at as number,
      expiresAt: (row.expires_at as number | null) ?? null,
    };
    if (this.#expired(mapping)) return undefined;
    await this.#remember(mapping);
    return mapping;
  }

  async #remember(mapping: Mapping): Promise<void> {
    const untilExpiry = mapping.expiresAt ? mapping.expiresAt - this.#now() : Infinity;
    const ttlMs = Math.min(REDIS_TTL_MS, untilExpiry);
    if (ttlMs <= 0) return;
    this.#near.set(mapping.code, mapping);
    await this.#cache
      .set(mappingCacheKey(mapping.code), JSON.stringify(mapping), { ttlMs })
      .catch(() => undefined);
  }

  #expired(mapping: Mapping): boolean {
    return mapping.expiresAt !== null && mapping.expiresAt <= this.#now();
  }
}

/** Where a code's mapping is cached. */
export function mappingCacheKey(code: string): string {
  return `urlshortener:code:${code}`;
}
