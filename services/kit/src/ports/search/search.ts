/**
 * The search port: indexes of typed documents, fed by entity events, queried
 * with fuzzy text, filters, sort and cursors. Both adapters analyse text the
 * same way (see analysis.ts) and validate queries the same way (query.ts), so
 * a query means one thing on either.
 */

export type FieldType = 'text' | 'keyword' | 'number' | 'date' | 'geo_point' | 'boolean';

export interface FieldSpec {
  type: FieldType;
  /** Text fields only: a match in this field counts this many times (default 1). */
  boost?: number;
}

export interface GeoPoint {
  lat: number;
  lon: number;
}

/**
 * A field's value by its type: text and keyword are strings (a keyword may
 * hold several), numbers are finite numbers, dates ISO 8601 strings, geo
 * points {lat, lon}. A missing or null field is simply absent.
 */
export type FieldValue = string | string[] | number | boolean | GeoPoint | null;

export interface IndexSpec {
  /** Lower case letters, digits, "_" and "-", starting with a letter. */
  name: string;
  /**
   * The mapping's version. Changing the fields needs a higher version; opening
   * an index at a higher version than it has rebuilds it from its documents,
   * without losing any written meanwhile.
   */
  version: number;
  fields: Record<string, FieldSpec>;
}

export interface SearchDocument {
  id: string;
  /**
   * The entity's version, a positive integer. A write carrying a version not
   * above the stored one (the document's or its deletion's) changes nothing,
   * so replayed and out-of-order events never regress a document.
   */
  version: number;
  fields: Record<string, FieldValue>;
  /** What wrote this version (an event id): tells a replay from a conflicting write. */
  origin?: string;
}

/**
 * Deleting keeps a tombstone with the version, which hides the document.
 * TODO(#7): tombstones are never purged; drop those older than the longest
 * time an event can take to arrive, so indexes of churning entities stay small.
 */
export interface DocumentDeletion {
  id: string;
  /** The version the entity reached by being deleted; older writes stay ignored after it. */
  version: number;
  origin?: string;
}

export type IndexChange =
  { type: 'upsert'; document: SearchDocument } | { type: 'delete'; deletion: DocumentDeletion };

/** "applied" when the change was written, "stale" when a version as new or newer was there. */
export type WriteOutcome = 'applied' | 'stale';

/** What an index holds for a document: its version and writer, also after a deletion. */
export interface StoredVersion {
  version: number;
  origin: string | undefined;
  deleted: boolean;
}

export type Filter =
  /** The field equals the value (a keyword holding several values: one of them does). */
  | { type: 'term'; field: string; value: string | number | boolean }
  /** The field equals any of the values. */
  | { type: 'terms'; field: string; values: (string | number | boolean)[] }
  /** Numbers and dates (ISO 8601) within the bounds given. */
  | {
      type: 'range';
      field: string;
      gt?: number | string;
      gte?: number | string;
      lt?: number | string;
      lte?: number | string;
    }
  /** Geo points within km kilometres (great circle) of the centre. */
  | { type: 'geo_distance'; field: string; center: GeoPoint; km: number };

/** By relevance (highest first) or by a keyword, number, date or boolean field. */
export type SortKey = { by: 'score' } | { by: 'field'; field: string; order?: 'asc' | 'desc' };

export interface SearchQuery {
  /**
   * Words to find, each in any of the text fields searched. Each word matches
   * within an edit distance growing with its length (0 up to 2 characters, 1
   * up to 5, 2 beyond, a swap of neighbours counting as one), case and accents
   * ignored. Every word must match. Empty or absent: every document matches,
   * with a score of 0. Only the first 32 words count.
   */
  text?: string;
  /** Completion: the last word also matches as the beginning of a word (not fuzzily). */
  prefix?: boolean;
  /** The text fields to search; all of them by default. */
  fields?: string[];
  filters?: Filter[];
  /**
   * Ties are broken by document id; by default, by score. Documents lacking the field come last.
   */
  sort?: SortKey[];
  /** Page size, 1 to 100; 10 by default. */
  limit?: number;
  /** The cursor of the previous page, for the page after it. */
  cursor?: string;
}

export interface SearchHit {
  id: string;
  version: number;
  /** Relevance; comparable between hits of one query only. */
  score: number;
  fields: Record<string, FieldValue>;
}

export interface SearchPage {
  hits: SearchHit[];
  /** Documents matching the query, over all pages. */
  total: number;
  /** Present when more hits follow; opaque, and valid only for the same query. */
  cursor?: string;
}

/** One index, by name; the handle follows the index across reindexing. */
export interface SearchIndex {
  readonly spec: IndexSpec;
  /** Applies the changes in order; one outcome per change. */
  write(changes: IndexChange[]): Promise<WriteOutcome[]>;
  upsert(documents: SearchDocument[]): Promise<WriteOutcome[]>;
  delete(deletions: DocumentDeletion[]): Promise<WriteOutcome[]>;
  /** A live document by id. */
  get(id: string): Promise<SearchHit | undefined>;
  /** What the index holds for each id it has seen (deletions included). */
  versions(ids: string[]): Promise<Map<string, StoredVersion>>;
  search(query: SearchQuery): Promise<SearchPage>;
  /** Makes every write made so far visible to search (a real engine shows them within a second). */
  refresh(): Promise<void>;
}

/** A search engine holding named, versioned indexes. */
export interface SearchEngine {
  /**
   * Opens an index, creating it when absent and rebuilding it when its stored
   * version is older than the spec's. Safe to call at every start, by every
   * process. Fails when the fields differ from those stored at the same version.
   */
  openIndex(spec: IndexSpec): Promise<SearchIndex>;
  /** Deletes an index, every version of it, and its documents. */
  dropIndex(name: string): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
