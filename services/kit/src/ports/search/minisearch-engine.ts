import MiniSearch, { type Query } from 'minisearch';
import { editDistanceFor, foldTerm, tokenize } from './analysis.ts';
import { searchError } from './errors.ts';
import {
  checkChanges,
  checkIndexSpec,
  encodeCursor,
  parseDate,
  planQuery,
  sameFields,
  type PlannedFilter,
  type PlannedQuery,
  type PlannedSort,
} from './query.ts';
import type {
  DocumentDeletion,
  FieldValue,
  GeoPoint,
  IndexChange,
  IndexSpec,
  SearchDocument,
  SearchEngine,
  SearchHit,
  SearchIndex,
  SearchPage,
  SearchQuery,
  StoredVersion,
  WriteOutcome,
} from './search.ts';

/** What the index keeps per id: the latest version, live or deleted. */
interface Entry extends StoredVersion {
  fields: Record<string, FieldValue>;
}

interface TextDocument {
  id: string;
  fields: Record<string, FieldValue>;
}

/** Transpositions score like the fuzzy matches they are (MiniSearch's fuzzy weight). */
const TRANSPOSITION_WEIGHT = 0.45;
/**
 * Swapped spellings are searched for words up to this length: a search for
 * each swap of a long word costs more than the typo it would forgive.
 */
const MAX_TRANSPOSED_LENGTH = 24;
/** OpenSearch's mean earth radius, so both adapters draw the same circles. */
const EARTH_RADIUS_KM = 6371.0087714;

type Ranked = SearchHit & { sortValues: unknown[] };

/** One index's documents and its inverted index over the text fields. */
class IndexState {
  spec: IndexSpec;
  readonly entries = new Map<string, Entry>();
  text: MiniSearch<TextDocument> | undefined;

  constructor(spec: IndexSpec) {
    this.spec = spec;
    this.text = IndexState.#textIndex(spec);
  }

  /** Rebuilds the text index for a new spec from the documents held. */
  rebuild(spec: IndexSpec): void {
    this.spec = spec;
    this.text = IndexState.#textIndex(spec);
    for (const [id, entry] of this.entries) {
      if (!entry.deleted) this.text?.add({ id, fields: entry.fields });
    }
  }

  static #textIndex(spec: IndexSpec): MiniSearch<TextDocument> | undefined {
    const fields = Object.keys(spec.fields).filter((name) => spec.fields[name]!.type === 'text');
    if (fields.length === 0) return undefined;
    return new MiniSearch<TextDocument>({
      idField: 'id',
      fields,
      storeFields: [],
      extractField: (document, field) =>
        field === 'id' ? document.id : (document.fields[field] as string | undefined),
      tokenize,
      processTerm: foldTerm,
      autoVacuum: true,
    });
  }
}

/**
 * The search port in process on MiniSearch: fuzzy and prefix matching over an
 * inverted index, with filters, sort and cursors applied to the matches here.
 * Nothing survives the process; feed it from the event log at start.
 */
export class MiniSearchEngine implements SearchEngine {
  readonly #indexes = new Map<string, IndexState>();

  async openIndex(spec: IndexSpec): Promise<SearchIndex> {
    checkIndexSpec(spec);
    const state = this.#indexes.get(spec.name);
    if (!state) {
      this.#indexes.set(spec.name, new IndexState(spec));
    } else if (state.spec.version === spec.version && !sameFields(state.spec.fields, spec.fields)) {
      throw searchError('fields_changed', {
        field: spec.name,
        message: `index ${spec.name} v${spec.version} has other fields; raise its version`,
      });
    } else if (state.spec.version < spec.version) {
      state.rebuild(spec);
    }
    return new MiniSearchIndex(spec, () => {
      const current = this.#indexes.get(spec.name);
      if (!current)
        throw searchError('invalid_index', { message: `index ${spec.name} was dropped` });
      return current;
    });
  }

  async dropIndex(name: string): Promise<void> {
    this.#indexes.delete(name);
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {}
}

class MiniSearchIndex implements SearchIndex {
  readonly spec: IndexSpec;
  readonly #state: () => IndexState;

  constructor(spec: IndexSpec, state: () => IndexState) {
    this.spec = spec;
    this.#state = state;
  }

  async write(changes: IndexChange[]): Promise<WriteOutcome[]> {
    const state = this.#state();
    return checkChanges(this.spec, changes).map((change) => {
      const target = change.type === 'upsert' ? change.document : change.deletion;
      const current = state.entries.get(target.id);
      if (current && current.version >= target.version) return 'stale';

      const deleted = change.type === 'delete';
      const fields = deleted ? {} : change.document.fields;
      state.entries.set(target.id, {
        version: target.version,
        origin: target.origin,
        deleted,
        fields,
      });
      if (state.text?.has(target.id)) state.text.discard(target.id);
      if (!deleted) state.text?.add({ id: target.id, fields });
      return 'applied';
    });
  }

  upsert(documents: SearchDocument[]): Promise<WriteOutcome[]> {
    return this.write(documents.map((document) => ({ type: 'upsert', document })));
  }

  delete(deletions: DocumentDeletion[]): Promise<WriteOutcome[]> {
    return this.write(deletions.map((deletion) => ({ type: 'delete', deletion })));
  }

  async get(id: string): Promise<SearchHit | undefined> {
    const entry = this.#state().entries.get(id);
    if (!entry || entry.deleted) return undefined;
    return { id, version: entry.version, score: 0, fields: structuredClone(entry.fields) };
  }

  async versions(ids: string[]): Promise<Map<string, StoredVersion>> {
    const entries = this.#state().entries;
    const found = new Map<string, StoredVersion>();
    for (const id of ids) {
      const entry = entries.get(id);
      if (entry)
        found.set(id, { version: entry.version, origin: entry.origin, deleted: entry.deleted });
    }
    return found;
  }

  async search(query: SearchQuery): Promise<SearchPage> {
    const plan = planQuery(this.spec, query);
    const state = this.#state();

    const matches = plan.terms.length === 0 ? allLive(state) : textMatches(state, plan);
    const order = comparator(plan.sort);
    const after = plan.after;
    const wanted = plan.limit + 1;
    // The first `wanted` hits after the cursor, in order, kept without sorting every match.
    const page: Ranked[] = [];
    let total = 0;
    for (const [id, score] of matches) {
      const entry = state.entries.get(id)!;
      if (entry.deleted || !plan.filters.every((filter) => passes(filter, entry.fields))) continue;
      total += 1;
      const hit = { id, version: entry.version, score, fields: entry.fields };
      const values = sortValues(plan.sort, hit);
      if (after && order(values, after) <= 0) continue;
      if (page.length === wanted && order(values, page[wanted - 1]!.sortValues) >= 0) continue;
      let low = 0;
      let high = page.length;
      while (low < high) {
        const middle = (low + high) >> 1;
        if (order(page[middle]!.sortValues, values) <= 0) low = middle + 1;
        else high = middle;
      }
      page.splice(low, 0, { ...hit, sortValues: values });
      if (page.length > wanted) page.pop();
    }

    const more = page.length > plan.limit;
    const shown = page.slice(0, plan.limit);
    return {
      // Copies: a caller changing a hit must not change the index.
      hits: shown.map(({ sortValues: _values, ...hit }) => ({
        ...hit,
        fields: structuredClone(hit.fields),
      })),
      total,
      ...(more ? { cursor: encodeCursor(plan.fingerprint, shown.at(-1)!.sortValues) } : {}),
    };
  }

  async refresh(): Promise<void> {}
}

/** Every document, scored 0; deletions are left out by the caller. */
function* allLive(state: IndexState): Iterable<[string, number]> {
  for (const id of state.entries.keys()) yield [id, 0];
}

/**
 * Every word must match in some searched field, within its edit distance;
 * MiniSearch's Levenshtein distance is widened to count a swap of neighbours
 * as one edit, as OpenSearch does, by also searching each swapped spelling
 * one edit tighter.
 */
function textMatches(state: IndexState, plan: PlannedQuery): Map<string, number> {
  if (!state.text) return new Map();
  const wordQuery = (term: string, i: number): Query => {
    if (plan.prefix && i === plan.terms.length - 1) {
      return { queries: [term], prefix: true, fuzzy: false };
    }
    const distance = editDistanceFor(term);
    const spellings: Query[] = [{ queries: [term], fuzzy: distance }];
    if (distance > 0 && term.length <= MAX_TRANSPOSED_LENGTH) {
      for (const swapped of transpositions(term)) {
        spellings.push({
          queries: [swapped],
          fuzzy: distance - 1,
          boostTerm: () => TRANSPOSITION_WEIGHT,
        });
      }
    }
    return { combineWith: 'OR', queries: spellings };
  };
  const results = state.text.search(
    { combineWith: 'AND', queries: plan.terms.map(wordQuery) },
    {
      fields: plan.fields.map((f) => f.name),
      boost: Object.fromEntries(plan.fields.map((f) => [f.name, f.boost])),
      prefix: false,
    },
  );
  return new Map(results.map((result) => [result.id as string, result.score]));
}

function transpositions(term: string): string[] {
  const chars = [...term];
  const swapped = new Set<string>();
  for (let i = 0; i + 1 < chars.length; i += 1) {
    if (chars[i] === chars[i + 1]) continue;
    const copy = [...chars];
    [copy[i], copy[i + 1]] = [copy[i + 1]!, copy[i]!];
    swapped.add(copy.join(''));
  }
  return [...swapped];
}

function passes(filter: PlannedFilter, fields: Record<string, FieldValue>): boolean {
  const value = fields[filter.field];
  if (value === undefined || value === null) return false;
  switch (filter.type) {
    case 'terms': {
      const held = (Array.isArray(value) ? value : [value]).map((v) =>
        filter.fieldType === 'date' ? parseDate(v) : v,
      );
      return held.some((v) => filter.values.includes(v as string | number | boolean));
    }
    case 'range': {
      const n = typeof value === 'number' ? value : parseDate(value);
      if (n === undefined) return false;
      return (
        (filter.gt === undefined || n > filter.gt) &&
        (filter.gte === undefined || n >= filter.gte) &&
        (filter.lt === undefined || n < filter.lt) &&
        (filter.lte === undefined || n <= filter.lte)
      );
    }
    case 'geo_distance':
      return distanceKm(value as GeoPoint, filter.center) <= filter.km;
  }
}

/** Great-circle distance by the haversine formula. */
export function distanceKm(a: GeoPoint, b: GeoPoint): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** A hit's values for each sort key and then its id; null where it lacks the field. */
function sortValues(sort: PlannedSort[], hit: SearchHit): unknown[] {
  const values: unknown[] = sort.map((key) => {
    if (key.by === 'score') return hit.score;
    const raw = hit.fields[key.field];
    if (raw === undefined || raw === null) return null;
    const all = (Array.isArray(raw) ? raw : [raw]).map((v) =>
      key.fieldType === 'date' ? parseDate(v)! : key.fieldType === 'boolean' ? Number(v) : v,
    ) as (string | number)[];
    // A field of several values sorts by its least ascending and its greatest descending.
    return all.reduce((best, v) => ((key.order === 'asc' ? v < best : v > best) ? v : best));
  });
  values.push(hit.id);
  return values;
}

function comparator(sort: PlannedSort[]): (a: unknown[], b: unknown[]) => number {
  const compare = (x: unknown, y: unknown) =>
    (x as string | number) < (y as string | number)
      ? -1
      : (x as string | number) > (y as string | number)
        ? 1
        : 0;
  return (a, b) => {
    for (let i = 0; i < sort.length; i += 1) {
      const key = sort[i]!;
      const [x, y] = [a[i], b[i]];
      if (x === y) continue;
      // Missing values come last in either order.
      if (x === null) return 1;
      if (y === null) return -1;
      const descending = key.by === 'score' || key.order === 'desc';
      const result = descending ? compare(y, x) : compare(x, y);
      if (result !== 0) return result;
    }
    return compare(a[sort.length], b[sort.length]);
  };
}
