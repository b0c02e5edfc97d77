import { Client, errors } from '@opensearch-project/opensearch';
import { MAX_TERM_LENGTH, TOKEN_SEPARATOR } from './analysis.ts';
import { searchError } from './errors.ts';
import {
  checkChanges,
  checkIndexSpec,
  encodeCursor,
  planQuery,
  RESERVED_PREFIX,
  sameFields,
  type PlannedFilter,
  type PlannedQuery,
} from './query.ts';
import type {
  DocumentDeletion,
  FieldSpec,
  FieldType,
  FieldValue,
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

export interface OpenSearchOptions {
  /** http(s)://host:port of a node. */
  node: string;
  /** Put before every index and alias name, so deployments can share one cluster. */
  prefix?: string;
  /** HTTP basic authentication (the security plugin's internal users). */
  auth?: { username: string; password: string };
  /** PEM of the CA to trust for an https node, besides the system's. */
  ca?: string;
  /**
   * How long a rebuild waits after switching the alias before its catch-up
   * copy, so that writes already routed to the old index have landed.
   */
  switchGraceMs?: number;
}

/** Fields the adapter adds to every stored document. */
const ID = `${RESERVED_PREFIX}id`;
const DELETED = `${RESERVED_PREFIX}deleted`;
const ORIGIN = `${RESERVED_PREFIX}origin`;
const ANALYZER = 'search_folded';

const MAPPED: Record<FieldType, Record<string, unknown>> = {
  text: { type: 'text', analyzer: ANALYZER },
  keyword: { type: 'keyword' },
  number: { type: 'double' },
  date: { type: 'date', format: 'strict_date_optional_time||epoch_millis' },
  geo_point: { type: 'geo_point' },
  boolean: { type: 'boolean' },
};

interface Stored {
  /** The concrete index the alias points at, `<alias>_v<version>`. */
  index: string;
  version: number;
  fields: Record<string, FieldSpec>;
}

/**
 * The search port on OpenSearch. Each index is an alias, `<prefix><name>`,
 * over a concrete index per mapping version, `<prefix><name>_v<version>`.
 * Documents are written with external versioning (the entity's version), and
 * a deletion is a tombstone document with its version, so no older write can
 * bring a document back, however late it comes.
 */
export class OpenSearchEngine implements SearchEngine {
  readonly #client: Client;
  readonly #prefix: string;
  readonly #graceMs: number;

  constructor(options: OpenSearchOptions) {
    this.#client = new Client({
      node: options.node,
      enableLongNumeralSupport: true,
      ...(options.auth ? { auth: options.auth } : {}),
      ...(options.ca ? { ssl: { ca: options.ca } } : {}),
    });
    this.#prefix = (options.prefix ?? '').toLowerCase();
    this.#graceMs = options.switchGraceMs ?? 1000;
    if (!/^([a-z0-9][a-z0-9._-]*)?$/.test(this.#prefix)) {
      throw searchError('invalid_index', {
        field: 'prefix',
        message: `"${options.prefix}" cannot begin an OpenSearch index name`,
      });
    }
  }

  async openIndex(spec: IndexSpec): Promise<SearchIndex> {
    checkIndexSpec(spec);
    const alias = this.#prefix + spec.name;
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const stored = await this.#stored(alias);
      if (!stored) {
        await this.#create(alias, spec);
        await this.#client.indices
          .updateAliases({ body: { actions: [{ add: { index: versioned(alias, spec), alias } }] } })
          .catch(ignore('aliases_not_found_exception'));
        continue;
      }
      if (stored.version === spec.version && !sameFields(stored.fields, spec.fields)) {
        throw searchError('fields_changed', {
          field: spec.name,
          message: `index ${spec.name} v${spec.version} has other fields; raise its version`,
        });
      }
      if (stored.version < spec.version) {
        // Another process finishing the same rebuild first deletes the old index under us.
        await this.#rebuild(alias, stored, spec).catch(ignore('index_not_found_exception'));
        continue;
      }
      // At its version, or at a newer one a later release made: use it as it is.
      return new OpenSearchIndex(this.#client, alias, spec);
    }
    throw new Error(`index ${spec.name}: the alias kept changing while opening it`);
  }

  async dropIndex(name: string): Promise<void> {
    const alias = this.#prefix + name;
    const found = await this.#client.indices
      .get({ index: `${alias}_v*`, ignore_unavailable: true, allow_no_indices: true })
      .then((response) => Object.keys(response.body));
    const ours = found.filter((index) => /^_v\d+$/.test(index.slice(alias.length)));
    if (ours.length > 0) await this.#client.indices.delete({ index: ours.join(',') });
  }

  async ping(): Promise<void> {
    const { body } = await this.#client.cluster.health({ timeout: '2s' });
    if (body.status === 'red') throw new Error('opensearch cluster health is red');
  }

  async close(): Promise<void> {
    await this.#client.close();
  }

  /** The index behind an alias, with the spec stored in its mapping. */
  async #stored(alias: string): Promise<Stored | undefined> {
    const response = await this.#client.indices
      .getAlias({ name: alias })
      .catch(ignore('aliases_not_found_exception', 'index_not_found_exception'));
    const indexes = Object.keys(response?.body ?? {});
    if (indexes.length === 0) return undefined;
    if (indexes.length > 1) throw new Error(`alias ${alias} points at ${indexes.join(', ')}`);
    const index = indexes[0]!;
    const mapping = await this.#client.indices.getMapping({ index });
    const meta = mapping.body[index]?.mappings?._meta as
      { version?: number; fields?: Record<string, FieldSpec> } | undefined;
    if (typeof meta?.version !== 'number' || !meta.fields) {
      throw new Error(`index ${index} was not made by this adapter (no _meta in its mapping)`);
    }
    return { index, version: meta.version, fields: meta.fields };
  }

  async #create(alias: string, spec: IndexSpec): Promise<void> {
    const properties: Record<string, Record<string, unknown>> = {
      [ID]: { type: 'keyword' },
      [DELETED]: { type: 'boolean' },
      [ORIGIN]: { type: 'keyword', index: false },
    };
    for (const [name, field] of Object.entries(spec.fields)) properties[name] = MAPPED[field.type];
    await this.#client.indices
      .create({
        index: versioned(alias, spec),
        body: {
          settings: {
            // One shard: scores and cursors stay consistent between pages.
            number_of_shards: 1,
            auto_expand_replicas: '0-1',
            analysis: {
              tokenizer: { search_words: { type: 'pattern', pattern: TOKEN_SEPARATOR } },
              filter: { search_truncate: { type: 'truncate', length: MAX_TERM_LENGTH } },
              analyzer: {
                [ANALYZER]: {
                  type: 'custom',
                  tokenizer: 'search_words',
                  filter: ['lowercase', 'asciifolding', 'search_truncate'],
                },
              },
            },
          },
          mappings: {
            // Fields a newer version dropped may still come from older writers: kept, not indexed.
            dynamic: false,
            _meta: { version: spec.version, fields: spec.fields },
            properties: properties as never,
          },
        },
      })
      .catch(ignore('resource_already_exists_exception'));
  }

  /**
   * Moves an alias to a new version of its index without losing a write:
   * copy every document, switch the alias (writers follow it from then on),
   * wait for writes routed before the switch, copy again, drop the old
   * index. Copies keep each document's version and skip any the new index
   * already holds at that version or newer, so both copies are idempotent and
   * never undo a write made through the alias meanwhile.
   */
  async #rebuild(alias: string, from: Stored, spec: IndexSpec): Promise<void> {
    const to = versioned(alias, spec);
    await this.#create(alias, spec);
    await this.#copy(from.index, to);

    await this.#client.indices
      .updateAliases({
        body: {
          actions: [{ remove: { index: from.index, alias } }, { add: { index: to, alias } }],
        },
      })
      // Another process switched it first.
      .catch(ignore('aliases_not_found_exception', 'index_not_found_exception'));

    await new Promise((resolve) => setTimeout(resolve, this.#graceMs));
    await this.#copy(from.index, to).catch(ignore('index_not_found_exception'));
    await this.#client.indices
      .delete({ index: from.index })
      .catch(ignore('index_not_found_exception'));
  }

  async #copy(from: string, to: string): Promise<void> {
    await this.#client.indices.refresh({ index: from });
    const { body } = await this.#client.reindex({
      wait_for_completion: true,
      refresh: true,
      body: {
        conflicts: 'proceed',
        source: { index: from, size: 1000 },
        dest: { index: to, version_type: 'external' },
      },
    });
    const failures = (body as { failures?: unknown[] }).failures ?? [];
    if (failures.length > 0) {
      throw new Error(`reindex ${from} -> ${to} failed: ${JSON.stringify(failures[0])}`);
    }
  }
}

class OpenSearchIndex implements SearchIndex {
  readonly spec: IndexSpec;
  readonly #client: Client;
  readonly #alias: string;

  constructor(client: Client, alias: string, spec: IndexSpec) {
    this.#client = client;
    this.#alias = alias;
    this.spec = spec;
  }

  async write(changes: IndexChange[]): Promise<WriteOutcome[]> {
    const checked = checkChanges(this.spec, changes);
    if (checked.length === 0) return [];
    const body: Record<string, unknown>[] = [];
    for (const change of checked) {
      const target = change.type === 'upsert' ? change.document : change.deletion;
      body.push({
        index: {
          _index: this.#alias,
          _id: target.id,
          version: target.version,
          version_type: 'external',
        },
      });
      body.push({
        ...(change.type === 'upsert' ? change.document.fields : {}),
        [ID]: target.id,
        [DELETED]: change.type === 'delete',
        ...(target.origin === undefined ? {} : { [ORIGIN]: target.origin }),
      });
    }
    const { body: result } = await this.#client.bulk({ body });
    return result.items.map((item, i) => {
      const outcome = item.index!;
      if (outcome.status === 409) return 'stale';
      if (outcome.error) {
        throw new Error(
          `index ${this.spec.name}: writing ${checked[i]!.type} failed: ` +
            `${outcome.error.type}: ${outcome.error.reason}`,
        );
      }
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
    const response = await this.#client
      .get({ index: this.#alias, id })
      .catch(ignore('document_missing', 'index_not_found_exception'));
    const found = response?.body;
    if (!found?.found || found._source?.[DELETED]) return undefined;
    return {
      id,
      version: Number(found._version),
      score: 0,
      fields: ownFields(found._source ?? {}),
    };
  }

  async versions(ids: string[]): Promise<Map<string, StoredVersion>> {
    const stored = new Map<string, StoredVersion>();
    if (ids.length === 0) return stored;
    const { body } = await this.#client.mget({
      index: this.#alias,
      body: { ids },
      _source_includes: [DELETED, ORIGIN],
    });
    for (const doc of body.docs as {
      _id: string;
      found?: boolean;
      _version?: number;
      _source?: Record<string, unknown>;
    }[]) {
      if (!doc.found) continue;
      stored.set(doc._id, {
        version: Number(doc._version),
        origin: doc._source?.[ORIGIN] as string | undefined,
        deleted: doc._source?.[DELETED] === true,
      });
    }
    return stored;
  }

  async search(query: SearchQuery): Promise<SearchPage> {
    const plan = planQuery(this.spec, query);
    const { body } = await this.#client.search({
      index: this.#alias,
      body: {
        query: {
          bool: {
            must: plan.terms.map((term, i) => wordClause(plan, term, i)),
            filter: [{ term: { [DELETED]: false } }, ...plan.filters.map(filterClause)],
          },
        },
        sort: [
          ...plan.sort.map((key) =>
            key.by === 'score'
              ? { _score: { order: 'desc' } }
              : { [key.field]: { order: key.order, missing: '_last' } },
          ),
          { [ID]: { order: 'asc' } },
        ],
        ...(plan.after ? { search_after: plan.after } : {}),
        size: plan.limit + 1,
        track_total_hits: true,
        track_scores: true,
        version: true,
        _source: { excludes: [`${RESERVED_PREFIX}*`] },
      } as never,
    });

    const hits = body.hits.hits;
    const shown = hits.slice(0, plan.limit);
    const total = body.hits.total;
    return {
      hits: shown.map((hit) => ({
        id: hit._id!,
        version: Number(hit._version),
        score: Number(hit._score ?? 0),
        fields: ownFields((hit._source ?? {}) as Record<string, unknown>),
      })),
      total: typeof total === 'number' ? total : Number(total?.value ?? 0),
      ...(hits.length > plan.limit
        ? { cursor: encodeCursor(plan.fingerprint, shown.at(-1)!.sort as unknown[]) }
        : {}),
    };
  }

  async refresh(): Promise<void> {
    await this.#client.indices.refresh({ index: this.#alias });
  }
}

/**
 * One word of the query: fuzzy (fuzziness AUTO, a swap counting as one edit)
 * in any of the searched fields, their scores added; the last word of a
 * completion matches as a prefix instead.
 */
function wordClause(plan: PlannedQuery, term: string, i: number): Record<string, unknown> {
  const fields = plan.fields.map((f) => `${f.name}^${f.boost}`);
  if (plan.prefix && i === plan.terms.length - 1) {
    return { multi_match: { query: term, fields, type: 'bool_prefix', operator: 'and' } };
  }
  return {
    multi_match: {
      query: term,
      fields,
      type: 'best_fields',
      tie_breaker: 1,
      operator: 'and',
      fuzziness: 'AUTO',
      fuzzy_transpositions: true,
      prefix_length: 0,
    },
  };
}

function filterClause(filter: PlannedFilter): Record<string, unknown> {
  switch (filter.type) {
    case 'terms': {
      const values = filter.values.map((v) => (filter.fieldType === 'date' ? isoDate(v) : v));
      return { terms: { [filter.field]: values } };
    }
    case 'range': {
      const given = (['gt', 'gte', 'lt', 'lte'] as const)
        .filter((bound) => filter[bound] !== undefined)
        .map((bound) => [
          bound,
          filter.fieldType === 'date' ? isoDate(filter[bound]) : filter[bound],
        ]);
      return { range: { [filter.field]: Object.fromEntries(given) } };
    }
    case 'geo_distance':
      return {
        geo_distance: {
          distance: `${filter.km}km`,
          distance_type: 'arc',
          [filter.field]: filter.center,
        },
      };
  }
}

/** A stored source without the adapter's own fields; long numbers back to numbers. */
function ownFields(source: Record<string, unknown>): Record<string, FieldValue> {
  const fields: Record<string, FieldValue> = {};
  for (const [name, value] of Object.entries(source)) {
    if (name.startsWith(RESERVED_PREFIX)) continue;
    fields[name] = (typeof value === 'bigint' ? Number(value) : value) as FieldValue;
  }
  return fields;
}

/** Dates go to OpenSearch as full ISO 8601 UTC: epoch millis before 1970 do not parse. */
function isoDate(epochMs: unknown): string {
  return new Date(epochMs as number).toISOString();
}

function versioned(alias: string, spec: IndexSpec): string {
  return `${alias}_v${spec.version}`;
}

/** A catch handler that swallows OpenSearch errors of the given types and 404s of reads. */
function ignore(...types: string[]) {
  return (error: unknown): undefined => {
    if (error instanceof errors.ResponseError) {
      const type = (error.body as { error?: { type?: string } } | undefined)?.error?.type;
      if (type && types.includes(type)) return undefined;
      // A document or alias that is not there answers 404 without an error type.
      if (!type && error.statusCode === 404 && types.includes('document_missing')) return undefined;
      if (!type && error.statusCode === 404 && types.includes('aliases_not_found_exception')) {
        return undefined;
      }
    }
    throw error;
  };
}
