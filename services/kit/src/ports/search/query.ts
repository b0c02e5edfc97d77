import { createHash } from 'node:crypto';
import { analyze } from './analysis.ts';
import { searchError } from './errors.ts';
import type {
  FieldSpec,
  FieldType,
  FieldValue,
  Filter,
  GeoPoint,
  IndexChange,
  IndexSpec,
  SearchQuery,
  SortKey,
} from './search.ts';

/** Words of a query beyond this many are dropped: they add cost, not precision. */
export const MAX_QUERY_TERMS = 32;
export const DEFAULT_LIMIT = 10;
export const MAX_LIMIT = 100;
/** Field names the adapters keep for themselves. */
export const RESERVED_PREFIX = 'search__';

const FIELD_TYPES: readonly FieldType[] = [
  'text',
  'keyword',
  'number',
  'date',
  'geo_point',
  'boolean',
];
const INDEX_NAME = /^[a-z][a-z0-9_-]{0,99}$/;
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]{0,99}$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** A filter checked against the index, with dates as epoch milliseconds. */
export type PlannedFilter =
  | { type: 'terms'; field: string; fieldType: FieldType; values: (string | number | boolean)[] }
  | {
      type: 'range';
      field: string;
      fieldType: FieldType;
      gt?: number;
      gte?: number;
      lt?: number;
      lte?: number;
    }
  | { type: 'geo_distance'; field: string; center: GeoPoint; km: number };

export type PlannedSort =
  { by: 'score' } | { by: 'field'; field: string; fieldType: FieldType; order: 'asc' | 'desc' };

/** A query checked against the index and reduced to what an adapter needs to run it. */
export interface PlannedQuery {
  /** Analysed words, at most MAX_QUERY_TERMS; empty matches everything. */
  terms: string[];
  prefix: boolean;
  /** Text fields searched, with their boosts. */
  fields: { name: string; boost: number }[];
  filters: PlannedFilter[];
  /** The adapters add the document id, ascending, as the last key, to break ties. */
  sort: PlannedSort[];
  limit: number;
  /** The sort values of the last hit of the previous page. */
  after: unknown[] | undefined;
  /** Names the query a cursor belongs to. */
  fingerprint: string;
}

/** Refuses an index definition the adapters could not map alike. */
export function checkIndexSpec(spec: IndexSpec): void {
  if (!INDEX_NAME.test(spec.name)) {
    throw searchError('invalid_index', {
      field: 'name',
      message: `index name "${spec.name}": lower case letters, digits, "_" and "-"`,
    });
  }
  if (!Number.isSafeInteger(spec.version) || spec.version < 1) {
    throw searchError('invalid_index', { field: 'version', message: 'a positive integer' });
  }
  for (const [name, field] of Object.entries(spec.fields)) {
    if (!FIELD_NAME.test(name) || name.startsWith(RESERVED_PREFIX)) {
      throw searchError('invalid_index', { field: name, message: `field name "${name}"` });
    }
    if (!FIELD_TYPES.includes(field.type)) {
      throw searchError('invalid_index', { field: name, message: `unknown type "${field.type}"` });
    }
    if (field.boost !== undefined && (field.type !== 'text' || !(field.boost > 0))) {
      throw searchError('invalid_index', {
        field: name,
        message: 'a boost is a positive number on a text field',
      });
    }
  }
}

/** The fields of a spec in a fixed order, to compare two specs of one version. */
export function sameFields(a: Record<string, FieldSpec>, b: Record<string, FieldSpec>): boolean {
  const canonical = (fields: Record<string, FieldSpec>) =>
    JSON.stringify(
      Object.keys(fields)
        .sort()
        .map((name) => [name, fields[name]!.type, fields[name]!.boost ?? 1]),
    );
  return canonical(a) === canonical(b);
}

/** Epoch milliseconds of an ISO 8601 date; a date without a zone is UTC. */
export function parseDate(value: unknown): number | undefined {
  if (typeof value !== 'string' || !ISO_DATE.test(value)) return undefined;
  const zoned = value.length > 10 && !/(Z|[+-]\d{2}:?\d{2})$/.test(value) ? `${value}Z` : value;
  const ms = Date.parse(zoned);
  return Number.isFinite(ms) ? ms : undefined;
}

export function isGeoPoint(value: unknown): value is GeoPoint {
  if (typeof value !== 'object' || value === null) return false;
  const { lat, lon } = value as Record<string, unknown>;
  return (
    typeof lat === 'number' &&
    typeof lon === 'number' &&
    Math.abs(lat) <= 90 &&
    Math.abs(lon) <= 180
  );
}

/**
 * Checks each change against the index's fields and returns them with text
 * NFC-normalised and null fields dropped; a bad change fails the whole call.
 */
export function checkChanges(spec: IndexSpec, changes: IndexChange[]): IndexChange[] {
  return changes.map((change) => {
    const target = change.type === 'upsert' ? change.document : change.deletion;
    if (typeof target.id !== 'string' || target.id.length === 0 || target.id.length > 512) {
      throw searchError('invalid_document', { field: 'id', message: 'an id of 1 to 512 chars' });
    }
    if (!Number.isSafeInteger(target.version) || target.version < 1) {
      throw searchError('invalid_document', {
        field: 'version',
        message: `document ${target.id}: the version is a positive integer`,
      });
    }
    if (change.type === 'delete') return change;
    if (typeof change.document.fields !== 'object' || change.document.fields === null) {
      throw searchError('invalid_document', { field: 'fields', message: 'fields is an object' });
    }
    const fields: Record<string, FieldValue> = {};
    for (const [name, value] of Object.entries(change.document.fields)) {
      const field = spec.fields[name];
      if (!field) {
        throw searchError('unknown_field', {
          field: name,
          message: `index ${spec.name} has no field "${name}"`,
        });
      }
      if (value === null || value === undefined) continue;
      fields[name] = checkValue(name, field.type, value);
    }
    return { type: 'upsert', document: { ...change.document, fields } };
  });
}

function checkValue(name: string, type: FieldType, value: FieldValue): FieldValue {
  const fits =
    type === 'text'
      ? typeof value === 'string'
      : type === 'keyword'
        ? typeof value === 'string' ||
          (Array.isArray(value) && value.every((v) => typeof v === 'string'))
        : type === 'number'
          ? typeof value === 'number' && Number.isFinite(value)
          : type === 'date'
            ? parseDate(value) !== undefined
            : type === 'geo_point'
              ? isGeoPoint(value)
              : typeof value === 'boolean';
  if (!fits) {
    throw searchError('wrong_field_type', {
      field: name,
      message: `field "${name}" holds a ${type}, not ${JSON.stringify(value)}`,
    });
  }
  if (type === 'text') return (value as string).normalize('NFC');
  if (type === 'geo_point') return { lat: (value as GeoPoint).lat, lon: (value as GeoPoint).lon };
  // A copy: the caller may change its array after the write.
  return Array.isArray(value) ? [...value] : value;
}

/** Checks a query against the index and plans it; every mistake names its field. */
export function planQuery(spec: IndexSpec, query: SearchQuery): PlannedQuery {
  const textFields = Object.entries(spec.fields).filter(([, f]) => f.type === 'text');
  const fieldNames = query.fields ?? textFields.map(([name]) => name);
  const fields = fieldNames.map((name) => {
    const field = fieldOf(spec, name);
    if (field.type !== 'text') {
      throw searchError('wrong_field_type', {
        field: name,
        message: `"${name}" is a ${field.type} field; text is searched in text fields`,
      });
    }
    return { name, boost: field.boost ?? 1 };
  });
  if (typeof query.text !== 'undefined' && typeof query.text !== 'string') {
    throw searchError('invalid_query', { field: 'text', message: 'text is a string' });
  }
  const terms = analyze(query.text ?? '').slice(0, MAX_QUERY_TERMS);
  if (terms.length > 0 && fields.length === 0) {
    throw searchError('invalid_query', {
      field: 'text',
      message: `index ${spec.name} has no text field to search`,
    });
  }

  const filters = (query.filters ?? []).map((filter) => planFilter(spec, filter));
  const sort = planSort(spec, query.sort ?? [{ by: 'score' }]);
  const limit = query.limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw searchError('invalid_query', {
      field: 'limit',
      message: `limit is an integer from 1 to ${MAX_LIMIT}`,
    });
  }

  const prefix = query.prefix === true;
  const fingerprint = createHash('sha256')
    .update(JSON.stringify([spec.name, terms, prefix, fields, filters, sort]))
    .digest('base64url')
    .slice(0, 16);
  const after =
    query.cursor === undefined ? undefined : decodeCursor(query.cursor, fingerprint, sort);
  return { terms, prefix, fields, filters, sort, limit, after, fingerprint };
}

function fieldOf(spec: IndexSpec, name: string): FieldSpec {
  const field = Object.hasOwn(spec.fields, name) ? spec.fields[name] : undefined;
  if (!field) {
    throw searchError('unknown_field', {
      field: name,
      message: `index ${spec.name} has no field "${name}"`,
    });
  }
  return field;
}

function wrongType(name: string, type: FieldType, what: string) {
  return searchError('wrong_field_type', {
    field: name,
    message: `"${name}" is a ${type} field, which cannot ${what}`,
  });
}

function planFilter(spec: IndexSpec, filter: Filter): PlannedFilter {
  const field = fieldOf(spec, filter.field);
  switch (filter.type) {
    case 'term':
    case 'terms': {
      if (field.type === 'text' || field.type === 'geo_point') {
        throw wrongType(filter.field, field.type, 'be filtered by value (use a keyword field)');
      }
      const values = filter.type === 'term' ? [filter.value] : filter.values;
      if (!Array.isArray(values) || values.length === 0 || values.length > 1024) {
        throw searchError('invalid_query', {
          field: filter.field,
          message: 'a terms filter needs 1 to 1024 values',
        });
      }
      return {
        type: 'terms',
        field: filter.field,
        fieldType: field.type,
        values: values.map((v) => termValue(filter.field, field.type, v)),
      };
    }
    case 'range': {
      if (field.type !== 'number' && field.type !== 'date') {
        throw wrongType(filter.field, field.type, 'be filtered by range');
      }
      const planned: PlannedFilter = { type: 'range', field: filter.field, fieldType: field.type };
      let bounds = 0;
      for (const bound of ['gt', 'gte', 'lt', 'lte'] as const) {
        const value = filter[bound];
        if (value === undefined) continue;
        planned[bound] = termValue(filter.field, field.type, value) as number;
        bounds += 1;
      }
      if (bounds === 0) {
        throw searchError('invalid_query', {
          field: filter.field,
          message: 'a range needs a bound',
        });
      }
      return planned;
    }
    case 'geo_distance': {
      if (field.type !== 'geo_point') {
        throw wrongType(filter.field, field.type, 'be filtered by distance');
      }
      if (!isGeoPoint(filter.center) || !(filter.km > 0) || !Number.isFinite(filter.km)) {
        throw searchError('invalid_query', {
          field: filter.field,
          message: 'a geo distance needs a centre {lat, lon} and a positive km',
        });
      }
      return { type: 'geo_distance', field: filter.field, center: filter.center, km: filter.km };
    }
    default:
      throw searchError('invalid_query', {
        field: (filter as { field?: string }).field ?? 'filters',
        message: `unknown filter type "${(filter as { type?: string }).type}"`,
      });
  }
}

/** A filter value as the field compares it: dates become epoch milliseconds. */
function termValue(name: string, type: FieldType, value: unknown): string | number | boolean {
  const fits =
    type === 'keyword'
      ? typeof value === 'string'
      : type === 'number'
        ? typeof value === 'number' && Number.isFinite(value)
        : type === 'date'
          ? parseDate(value) !== undefined
          : typeof value === 'boolean';
  if (!fits) {
    throw searchError('wrong_field_type', {
      field: name,
      message: `"${name}" is a ${type} field; ${JSON.stringify(value)} is not a ${type}`,
    });
  }
  return type === 'date' ? parseDate(value)! : (value as string | number | boolean);
}

function planSort(spec: IndexSpec, keys: SortKey[]): PlannedSort[] {
  if (!Array.isArray(keys) || keys.length > 4) {
    throw searchError('invalid_query', { field: 'sort', message: 'at most 4 sort keys' });
  }
  return keys.map((key) => {
    if (key.by === 'score') return { by: 'score' };
    if (key.by !== 'field') {
      throw searchError('invalid_query', { field: 'sort', message: 'sort by score or field' });
    }
    const field = fieldOf(spec, key.field);
    if (field.type === 'text' || field.type === 'geo_point') {
      throw wrongType(key.field, field.type, 'be sorted on');
    }
    const order = key.order ?? 'asc';
    if (order !== 'asc' && order !== 'desc') {
      throw searchError('invalid_query', { field: key.field, message: 'order is asc or desc' });
    }
    return { by: 'field', field: key.field, fieldType: field.type, order };
  });
}

/** An opaque cursor: the sort values to continue after, bound to one query. */
export function encodeCursor(fingerprint: string, after: unknown[]): string {
  const json = JSON.stringify({ q: fingerprint, a: after }, (_key, value: unknown) =>
    typeof value === 'bigint' ? { big: value.toString() } : value,
  );
  return Buffer.from(json).toString('base64url');
}

function decodeCursor(cursor: string, fingerprint: string, sort: PlannedSort[]): unknown[] {
  let decoded: { q?: unknown; a?: unknown };
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'), (_key, value) =>
      typeof value === 'object' && value !== null && typeof value.big === 'string'
        ? BigInt(value.big)
        : value,
    );
  } catch {
    throw searchError('invalid_cursor', { field: 'cursor', message: 'the cursor is malformed' });
  }
  if (decoded?.q !== fingerprint || !Array.isArray(decoded.a)) {
    throw searchError('invalid_cursor', { field: 'cursor' });
  }
  // A value per sort key and the id last, each of a type that key can hold: the
  // fingerprint binds the query, not the values, which a client can change.
  const after: unknown[] = decoded.a;
  const fits =
    after.length === sort.length + 1 &&
    typeof after.at(-1) === 'string' &&
    sort.every((key, i) => sortValueFits(key, after[i]));
  if (!fits) throw searchError('invalid_cursor', { field: 'cursor' });
  return after;
}

function sortValueFits(key: PlannedSort, value: unknown): boolean {
  if (key.by === 'score') return typeof value === 'number' && Number.isFinite(value);
  if (value === null) return true; // the document lacks the field
  return (
    typeof value === 'string' ||
    typeof value === 'bigint' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}
