import { createHash } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import type { Cache } from '../ports/cache/cache.ts';
import { httpError, invalidField } from './errors.ts';

interface InFlight {
  state: 'in_flight';
  fingerprint: string;
}

interface Done {
  state: 'done';
  fingerprint: string;
  status: number;
  body: unknown;
  location?: string;
}

const KEY = /^[\w.:-]{1,128}$/;

export interface IdempotencyOptions {
  cache: Cache;
  /** Separates the keys of different services sharing one cache. */
  scope: string;
  /** How long a finished answer is replayed. */
  ttlMs?: number;
  /** How long a claim lasts when its process dies before answering. */
  inFlightMs?: number;
  /** When true a request without the header is refused. */
  required?: boolean;
}

/**
 * Idempotency-Key handling: the first request with a key is processed and its
 * answer stored; a replay gets the stored answer; the same key with another
 * body gets 422; the same key while the first is still running gets 409.
 * Answers of 5xx are not stored, so the client may retry.
 */
export function idempotency(options: IdempotencyOptions): RequestHandler {
  const ttlMs = options.ttlMs ?? 24 * 3600_000;
  const inFlightMs = options.inFlightMs ?? 60_000;

  return async (req, res, next) => {
    const key = req.get('idempotency-key');
    if (key === undefined) {
      if (options.required) next(invalidField('Idempotency-Key', 'the header is required'));
      else next();
      return;
    }
    if (!KEY.test(key)) {
      next(invalidField('Idempotency-Key', 'expected 1-128 characters of [A-Za-z0-9_.:-]'));
      return;
    }

    const slot = `idempotency:${options.scope}:${key}`;
    const fingerprint = createHash('sha256')
      .update(`${req.method} ${req.path}\n${canonicalJson(req.body ?? null)}`)
      .digest('base64url');

    try {
      const claim: InFlight = { state: 'in_flight', fingerprint };
      const claimed = await options.cache.setIfAbsent(slot, JSON.stringify(claim), {
        ttlMs: inFlightMs,
      });
      if (!claimed) {
        await answerFromSlot(options.cache, slot, fingerprint, res);
        return;
      }
      recordAnswer(options.cache, slot, fingerprint, ttlMs, res);
      next();
    } catch (error) {
      next(error);
    }
  };
}

async function answerFromSlot(cache: Cache, slot: string, fingerprint: string, res: Response) {
  const stored = await cache.get(slot);
  if (stored === undefined) throw httpError('idempotency_in_flight');
  const previous = JSON.parse(stored) as InFlight | Done;
  if (previous.fingerprint !== fingerprint) throw httpError('idempotency_key_reused');
  if (previous.state === 'in_flight') throw httpError('idempotency_in_flight');

  if (previous.location) res.setHeader('location', previous.location);
  res.setHeader('idempotent-replayed', 'true');
  res.status(previous.status).json(previous.body);
}

/**
 * Wraps res.json to store the answer before it goes out. An answer sent any
 * other way is not replayable, so its claim is released instead.
 */
function recordAnswer(
  cache: Cache,
  slot: string,
  fingerprint: string,
  ttlMs: number,
  res: Response,
) {
  const send = res.json.bind(res);
  let recorded = false;
  res.once('finish', () => {
    if (!recorded) void cache.delete(slot).catch(() => undefined);
  });
  res.json = (body: unknown) => {
    recorded = true;
    const status = res.statusCode;
    const settle =
      status >= 500
        ? cache.delete(slot)
        : cache.set(
            slot,
            JSON.stringify({
              state: 'done',
              fingerprint,
              status,
              body,
              location: res.getHeader('location')?.toString(),
            } satisfies Done),
            { ttlMs },
          );
    settle.then(
      () => send(body),
      () => send(body),
    );
    return res;
  };
}

/** JSON with object keys sorted, so the same fields in another order are the same body. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : 1)))
      : inner,
  );
}
