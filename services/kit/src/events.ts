import { randomUUID } from 'node:crypto';
import type { EventRecord } from './ports/event-log/event-log.ts';

/** Every event on the log: a type and schema version, an id for dedupe, the entity key. */
export interface Envelope<T> {
  id: string;
  type: string;
  version: number;
  key: string;
  time: string;
  data: T;
}

export function envelope<T>(type: string, version: number, key: string, data: T): Envelope<T> {
  return { id: randomUUID(), type, version, key, time: new Date().toISOString(), data };
}

export function encodeEvent(event: Envelope<unknown>): EventRecord {
  return {
    key: event.key,
    value: Buffer.from(JSON.stringify(event)),
    headers: { 'event-type': event.type, 'schema-version': String(event.version) },
  };
}

export function decodeEvent<T>(record: { value: Buffer }): Envelope<T> {
  return JSON.parse(record.value.toString('utf8')) as Envelope<T>;
}
