import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import {
  Counter,
  clientRateLimit,
  createHttpApp,
  httpError,
  idempotency,
  invalidField,
  parseInput,
  serveApp,
  type HistogramChild,
  type Infra,
  type Logger,
  type Metrics,
  type RunningServer,
} from '@platform/kit';
import type { Config } from './config.ts';
import { ClickBuffer, type RawClick } from './clicks.ts';
import type { CounterPool } from './counters.ts';
import { aliasProblem, CODE, RESERVED_PATHS } from './domain/alias.ts';
import type { CodeSpace } from './domain/code-space.ts';
import { checkTarget, type TargetPolicy } from './domain/target-policy.ts';
import { shortenerError } from './errors.ts';
import type { ClickStatsStore } from './store/click-stats.store.ts';
import type { Mapping, MappingStore } from './store/mapping.store.ts';
import { CodeSpaceExhausted } from './store/token-range.store.ts';

export interface ApiDeps {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  infra: Infra;
  codes: CodeSpace;
  counters: CounterPool;
  mappings: MappingStore;
  stats: ClickStatsStore;
}

const createBody = z.strictObject({
  url: z.string({ message: 'is required' }),
  alias: z.string().optional(),
  expiresAt: z.iso
    .datetime({ offset: true, message: 'expected an ISO 8601 date-time' })
    .nullable()
    .optional(),
});

const statsQuery = z.object({
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
});

/** A code, with an optional trailing slash and query string (tracking parameters). */
const CODE_PATH = new RegExp(`^/(${CODE})/?(?:\\?.*)?$`);
const DAY = 24 * 3600_000;

/** The public API: create, redirect and stats. Redirects bypass express (see redirectPath). */
export async function startApi(deps: ApiDeps): Promise<RunningServer> {
  const { config, logger, metrics, infra } = deps;
  const policy: TargetPolicy = {
    maxLength: config.MAX_URL_LENGTH,
    selfHosts: [new URL(config.PUBLIC_BASE_URL).host, ...config.SELF_HOSTS],
    blockedHosts: config.BLOCKED_HOSTS,
  };
  const created = new Counter({
    name: 'urlshortener_urls_created_total',
    help: 'Short URLs created, by kind of code.',
    labelNames: ['kind'],
    registers: [metrics.registry],
  });
  const droppedClicks = new Counter({
    name: 'urlshortener_clicks_dropped_total',
    help: 'Clicks dropped because the buffer was full while Kafka was unreachable.',
    registers: [metrics.registry],
  });
  const clicks = new ClickBuffer({
    log: infra.eventLog,
    logger,
    flushMs: config.CLICK_FLUSH_MS,
    flushSize: config.CLICK_FLUSH_SIZE,
    onDrop: (count) => droppedClicks.inc(count),
  });

  const http = createHttpApp({
    logger,
    metrics,
    // What a create or a cold redirect cannot do without. Kafka is left out:
    // clicks wait in the buffer, and an outage must not take every API pod
    // out of its Service. Redis is left out too: reads fall back to the store.
    readiness: { wideColumn: infra.readiness.wideColumn! },
    trustProxy: config.TRUST_PROXY,
  });
  const { app } = http;

  app.post(
    '/urls',
    clientRateLimit({
      cache: infra.cache,
      name: 'create-url',
      limit: config.CREATE_RATE_LIMIT,
      windowMs: config.CREATE_RATE_WINDOW_SECONDS * 1000,
    }),
    idempotency({ cache: infra.cache, scope: 'url-shortener:create' }),
    async (req, res) => {
      const body = parseInput(createBody, req.body);
      const target = checkTarget(body.url, policy);
      if (!target.ok) throw invalidField('url', target.reason);
      const expiresAt = body.expiresAt ? Date.parse(body.expiresAt) : null;
      if (expiresAt !== null && expiresAt <= Date.now()) {
        throw invalidField('expiresAt', 'must be in the future');
      }
      if (expiresAt !== null && expiresAt > Date.now() + config.RETENTION_DAYS * DAY) {
        throw invalidField(
          'expiresAt',
          `must be within the ${config.RETENTION_DAYS}-day retention`,
        );
      }

      const mapping: Mapping = { code: '', target: target.url, createdAt: Date.now(), expiresAt };
      if (body.alias !== undefined) {
        const problem = aliasProblem(body.alias, deps.codes.length);
        if (problem) throw invalidField('alias', problem);
        mapping.code = body.alias;
        const written = await deps.mappings.create(mapping, { alias: true });
        if (!written) throw shortenerError('alias_taken', { field: 'alias' });
        created.inc({ kind: 'alias' });
      } else {
        mapping.code = deps.codes.encode(await nextCounter(deps.counters));
        await deps.mappings.create(mapping, { alias: false });
        created.inc({ kind: 'generated' });
      }

      const shortUrl = new URL(mapping.code, withSlash(config.PUBLIC_BASE_URL)).href;
      res.setHeader('location', shortUrl);
      res.status(201).json({
        code: mapping.code,
        shortUrl,
        url: mapping.target,
        expiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString(),
      });
    },
  );

  app.get('/urls/:code/stats', async (req, res) => {
    const code = String(req.params.code);
    const query = parseInput(statsQuery, req.query, 'query');
    const to = query.to ? Date.parse(query.to) : Date.now() + 60_000;
    const from = query.from ? Date.parse(query.from) : to - DAY;
    if (from >= to) throw invalidField('from', 'must be before to');
    if (to - from > 31 * DAY) throw invalidField('from', 'the window is at most 31 days');
    if (!(await deps.mappings.find(code))) throw shortenerError('code_not_found');
    res.json(await deps.stats.stats(code, from, to));
  });

  const server = await serveApp(http, {
    port: config.PORT,
    host: config.HOST,
    logger,
    fastPath: redirectPath(deps, clicks, (req) => http.clientAddress(req)),
  });
  return {
    ...server,
    close: async () => {
      await server.close();
      await clicks.close();
    },
  };
}

async function nextCounter(counters: CounterPool): Promise<number> {
  try {
    return await counters.next();
  } catch (error) {
    if (error instanceof CodeSpaceExhausted) throw shortenerError('code_space_exhausted');
    throw httpError('unavailable', { message: 'no code range could be leased', cause: error });
  }
}

/**
 * The redirect, answered straight on node:http. express costs several times
 * a bare handler per request (docs/benchmarks.md), and this is the path that
 * carries the read load. A near-cache hit answers without waiting on anything.
 */
function redirectPath(
  deps: ApiDeps,
  clicks: ClickBuffer,
  clientAddress: (req: IncomingMessage) => string | undefined,
) {
  const { config, metrics, mappings, logger } = deps;
  const status = config.REDIRECT_STATUS;
  const cacheControl =
    config.REDIRECT_MAX_AGE > 0 ? `private, max-age=${config.REDIRECT_MAX_AGE}` : 'no-store';
  const countryHeader = config.COUNTRY_HEADER;
  // Histogram children bound once per method and status, found without
  // building a label key; performance.now() allocates nothing, unlike a bigint.
  const timers = new Map<string, Map<number, HistogramChild>>();
  const observe = (started: number, method: string, statusCode: number) => {
    let byStatus = timers.get(method);
    if (!byStatus) timers.set(method, (byStatus = new Map()));
    let timer = byStatus.get(statusCode);
    if (!timer) {
      timer = metrics.httpDuration.labels({ method, route: '/:code', status_code: statusCode });
      byStatus.set(statusCode, timer);
    }
    timer.observe((performance.now() - started) / 1000);
  };

  const answer = (
    req: IncomingMessage,
    res: ServerResponse,
    code: string,
    mapping: Mapping | undefined,
    started: number,
  ) => {
    if (!mapping) {
      const requestId = randomUUID();
      res.writeHead(404, {
        'content-type': 'application/json',
        'cache-control': 'no-store',
        'x-request-id': requestId,
      });
      const error = { code: 'code_not_found', message: 'no link with this code', requestId };
      res.end(JSON.stringify({ error }));
      observe(started, req.method!, 404);
      return;
    }
    res.writeHead(status, { location: mapping.target, 'cache-control': cacheControl });
    res.end();
    observe(started, req.method!, status);
    // HEAD is how link checkers and previews look; only a GET is a visit.
    if (req.method !== 'GET') return;
    const click: RawClick = {
      code,
      at: Date.now(),
      // Behind a trusted proxy (TRUST_PROXY), the address it forwards, as req.ip in express.
      ip: clientAddress(req) ?? '',
      userAgent: '',
      referer: '',
    };
    readVisitHeaders(req.rawHeaders, countryHeader, click);
    clicks.push(click);
  };

  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const match = CODE_PATH.exec(req.url ?? '');
    const code = match?.[1];
    if (!code) return false;
    const started = performance.now();

    // A reserved path is never a code, so a cached mapping settles it.
    const near = mappings.peek(code);
    if (near) {
      answer(req, res, code, near, started);
      return true;
    }
    if (RESERVED_PATHS.has(code.toLowerCase())) return false;
    mappings.find(code).then(
      (mapping) => answer(req, res, code, mapping, started),
      (error: unknown) => {
        logger.error({ err: error, code }, 'redirect lookup failed');
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'unavailable', message: 'try again shortly' } }));
        observe(started, req.method!, 503);
      },
    );
    return true;
  };
}

/**
 * The user agent, referrer and edge country of a visit, straight from the raw
 * header list: `req.headers` builds an object of every header on first use,
 * which costs the redirect more than the rest of its click bookkeeping. The
 * first of repeated headers counts; values are cut to bounds the click
 * events are sized for.
 */
function readVisitHeaders(raw: string[], countryHeader: string | undefined, click: RawClick) {
  let seen = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 10 && !(seen & 1) && name.toLowerCase() === 'user-agent') {
      click.userAgent = raw[i + 1]!.slice(0, 512);
      seen |= 1;
    } else if (name.length === 7 && !(seen & 2) && name.toLowerCase() === 'referer') {
      click.referer = raw[i + 1]!.slice(0, 512);
      seen |= 2;
    } else if (
      countryHeader &&
      !(seen & 4) &&
      name.length === countryHeader.length &&
      name.toLowerCase() === countryHeader
    ) {
      click.country = raw[i + 1]!.slice(0, 64);
      seen |= 4;
    }
  }
}

function withSlash(base: string): string {
  return base.endsWith('/') ? base : `${base}/`;
}
