import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import type { Logger } from '../telemetry/logger.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import { AppError, httpError } from './errors.ts';

export type ReadinessCheck = () => Promise<void>;

export interface HttpAppOptions {
  logger: Logger;
  metrics: Metrics;
  /** Named dependency checks behind /readyz; each must settle within checkTimeoutMs. */
  readiness?: Record<string, ReadinessCheck>;
  bodyLimit?: string;
  checkTimeoutMs?: number;
  /** Express `trust proxy` setting, so req.ip is the client behind a known proxy. */
  trustProxy?: boolean | number | string;
  /**
   * Paths whose request bodies are not JSON (uploads): left unread for the
   * route to stream, whatever their Content-Type.
   */
  rawBodyPaths?: readonly string[];
}

export interface HttpApp {
  app: Express;
  /** Adds the 404 and error handlers; call after the routes. */
  finish(): Express;
  /** Marks the app as draining: /readyz answers 503 from then on. */
  drain(): void;
  /**
   * The client's address as express's `req.ip` works it out (through trusted
   * proxies' X-Forwarded-For), for a handler in front of express (a fast path).
   */
  clientAddress(req: IncomingMessage): string | undefined;
}

const REQUEST_ID = /^[\w.:-]{1,64}$/;

declare module 'express-serve-static-core' {
  interface Request {
    id: string;
  }
}

/** An express app with request ids, RED metrics, JSON errors, health and metrics endpoints. */
export function createHttpApp(options: HttpAppOptions): HttpApp {
  const { logger, metrics } = options;
  const app = express();
  let draining = false;

  app.disable('x-powered-by');
  app.set('trust proxy', options.trustProxy ?? false);
  app.use(requestContext(logger, metrics));
  const raw = new Set(options.rawBodyPaths ?? []);
  const jsonBody = (req: IncomingMessage) =>
    hasBody(req) && !raw.has((req.url ?? '/').split('?')[0]!);
  app.use(requireJsonBody(jsonBody));
  app.use(express.json({ limit: options.bodyLimit ?? '16kb', type: jsonBody }));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', async (_req, res) => {
    if (draining) {
      res.status(503).json({ status: 'draining' });
      return;
    }
    const checks = await runChecks(options.readiness ?? {}, options.checkTimeoutMs ?? 2000, logger);
    const ready = Object.values(checks).every((check) => check === 'ok');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ok' : 'unavailable', checks });
  });

  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  return {
    app,
    finish() {
      app.use((_req, _res, next) => next(httpError('not_found')));
      app.use(errorHandler(logger));
      return app;
    },
    drain() {
      draining = true;
    },
    clientAddress(req) {
      if (!options.trustProxy) return req.socket.remoteAddress;
      // Express's own request prototype, bound to this app's trust setting, over this request.
      const view = Object.create(app.request, {
        headers: { value: req.headers },
        socket: { value: req.socket },
      }) as express.Request;
      return view.ip;
    },
  };
}

function hasBody(req: { headers: Record<string, unknown> }): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/** A request that carries a JSON-only body must say it is JSON; anything else is 415. */
function requireJsonBody(jsonBody: (req: IncomingMessage) => boolean): RequestHandler {
  return (req, _res, next) => {
    if (jsonBody(req) && !req.is('application/json')) {
      next(httpError('unsupported_media_type', { field: 'content-type' }));
      return;
    }
    next();
  };
}

function requestContext(logger: Logger, metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const incoming = req.headers['x-request-id'];
    req.id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('x-request-id', req.id);
    const started = process.hrtime.bigint();

    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeOf(req);
      metrics.httpDuration.observe(
        { method: req.method, route, status_code: String(res.statusCode) },
        seconds,
      );
      logger.info(
        {
          requestId: req.id,
          method: req.method,
          route,
          status: res.statusCode,
          ms: Math.round(seconds * 1e4) / 10,
        },
        'request',
      );
    });
    next();
  };
}

/** The matched route pattern, never the raw path, so label values stay bounded. */
function routeOf(req: express.Request): string {
  const path: unknown = req.route?.path;
  if (typeof path === 'string') return `${req.baseUrl}${path}`;
  return 'unmatched';
}

/** Each check's outcome as 'ok' or 'failed'; the reason is logged, not shown to callers. */
async function runChecks(
  checks: Record<string, ReadinessCheck>,
  timeoutMs: number,
  logger: Logger,
): Promise<Record<string, string>> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        await withTimeout(check(), timeoutMs);
        return [name, 'ok'] as const;
      } catch (error) {
        logger.warn({ check: name, err: error }, 'readiness check failed');
        return [name, 'failed'] as const;
      }
    }),
  );
  return Object.fromEntries(entries);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

interface BodyParserError {
  type?: string;
  status?: number;
  /** The raw body, on a parse failure. */
  body?: unknown;
}

/** Normalises anything thrown into the JSON error body; only 5xx are logged, once. */
function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const appError = toAppError(error);
    if (appError.status >= 500) {
      logger.error({ requestId: req.id, err: error }, 'request failed');
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }

    res.status(appError.status).json({
      error: {
        code: appError.code,
        message: appError.message,
        ...(appError.field ? { field: appError.field } : {}),
        requestId: req.id,
      },
    });
  };
}

function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;

  const parserType = (error as BodyParserError | undefined)?.type;
  if (parserType === 'entity.too.large') return httpError('payload_too_large', { field: 'body' });
  if (parserType === 'entity.parse.failed') {
    // The parser takes objects and arrays only; `null` or `"text"` are JSON all the same.
    const message = isJson((error as BodyParserError).body)
      ? 'the body must be a JSON object or array'
      : 'the body is not valid JSON';
    return httpError('invalid_request', { field: 'body', message });
  }
  if (parserType === 'encoding.unsupported' || parserType === 'charset.unsupported') {
    return httpError('unsupported_media_type', { field: 'body' });
  }
  const status = (error as BodyParserError | undefined)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return httpError('invalid_request', { field: 'body' });
  }
  return httpError('internal');
}

function isJson(text: unknown): boolean {
  if (typeof text !== 'string') return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
