import type { IndexSpec, SearchEngine, SearchIndex } from '@platform/kit';
import type { Place } from './import/osm-import.ts';

/** Named places of the loaded extracts; `extract` keeps extracts apart in a shared engine. */
export const PLACES_INDEX: IndexSpec = {
  name: 'navigation-places',
  version: 1,
  fields: {
    name: { type: 'text' },
    kind: { type: 'keyword' },
    extract: { type: 'keyword' },
    lat: { type: 'number' },
    lon: { type: 'number' },
  },
};

export interface PlaceHit {
  name: string;
  kind: string;
  lat: number;
  lng: number;
}

const BATCH = 500;

/**
 * Place search through the kit's search port: MiniSearch in the process, or OpenSearch. The
 * places come from the extract at every start; a document's version is always 1, so a restart
 * against a kept OpenSearch index writes nothing new.
 */
export class PlaceSearch {
  readonly #index: SearchIndex;
  readonly #extract: string;

  private constructor(index: SearchIndex, extract: string) {
    this.#index = index;
    this.#extract = extract;
  }

  static async open(engine: SearchEngine, extract: string, places: readonly Place[]) {
    const index = await engine.openIndex(PLACES_INDEX);
    for (let i = 0; i < places.length; i += BATCH) {
      await index.upsert(
        places.slice(i, i + BATCH).map((place) => ({
          id: `${extract}:${place.id}`,
          version: 1,
          fields: { name: place.name, kind: place.kind, extract, lat: place.lat, lon: place.lon },
        })),
      );
    }
    await index.refresh();
    return new PlaceSearch(index, extract);
  }

  /**
   * Places whose name matches the words, typos allowed; when fewer than `limit` match, names
   * the last word begins are added. Two queries, because the port's prefix matching of the
   * last word is exact, not typo tolerant.
   */
  async search(text: string, limit: number): Promise<PlaceHit[]> {
    // Punctuation or symbols alone name nothing (the engines would match everything).
    if (!/[\p{L}\p{N}]/u.test(text)) return [];
    const filters = [{ type: 'term' as const, field: 'extract', value: this.#extract }];
    const hits = (await this.#index.search({ text, filters, limit })).hits;
    if (hits.length < limit) {
      const seen = new Set(hits.map((hit) => hit.id));
      const completions = await this.#index.search({ text, prefix: true, filters, limit });
      for (const hit of completions.hits) {
        if (hits.length < limit && !seen.has(hit.id)) hits.push(hit);
      }
    }
    return hits.map((hit) => ({
      name: String(hit.fields.name),
      kind: String(hit.fields.kind),
      lat: Number(hit.fields.lat),
      lng: Number(hit.fields.lon),
    }));
  }
}
