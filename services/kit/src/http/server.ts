import {
  createServer,
  STATUS_CODES,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Express } from 'express';
import type { Logger } from '../telemetry/logger.ts';
import type { HttpApp } from './app.ts';
import { httpErrors, type HttpErrorCode } from './errors.ts';

/**
 * A handler tried before express. It answers the request and returns true, or
 * returns false to let express handle it. Hot paths use it to skip express's
 * per-request cost.
 */
export type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean;

export interface ServeOptions {
  app: Express;
  port: number;
  host?: string;
  logger: Logger;
  fastPath?: FastPath;
  /** How long in-flight requests may take to finish after shutdown starts. */
  drainMs?: number;
}

export interface RunningServer {
  server: Server;
  port: number;
  url: string;
  /** Stops accepting, lets in-flight requests finish (up to drainMs), then closes the rest. */
  close(): Promise<void>;
}

export async function serve(options: ServeOptions): Promise<RunningServer> {
  const { app, fastPath, logger } = options;
  const handle = fastPath
    ? (req: IncomingMessage, res: ServerResponse) => fastPath(req, res) || app(req, res)
    : app;
  const server = createServer(handle);
  server.keepAliveTimeout = 65_000;
  server.on('clientError', answerClientError);

  await new Promise<void>((resolve, reject) => {
    const refuse = (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EADDRINUSE') return reject(error);
      const taken = new Error(
        `port ${options.port} is already in use: stop what listens there or choose another port`,
        { cause: error },
      );
      reject(Object.assign(taken, { code: error.code }));
    };
    server.once('error', refuse);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', refuse);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  logger.info({ port }, 'listening');

  return {
    server,
    port,
    url,
    close: () => drain(server, options.drainMs ?? 10_000),
  };
}

/**
 * A connection kept alive past its last answer would hold close() until
 * drainMs, so connections are closed as they fall idle. Sweeping while
 * draining keeps that cost off every request.
 */
function drain(server: Server, drainMs: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), drainMs);
    const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
    force.unref();
    sweep.unref();
    server.close(() => {
      clearTimeout(force);
      clearInterval(sweep);
      resolve();
    });
    server.closeIdleConnections();
  });
}

const IDLE_SWEEP_MS = 50;

/**
 * A request Node's parser refuses before any handler sees it (a URL or headers past
 * the 16 KB limit, bytes that are not HTTP, a request that never finished) gets the
 * platform's JSON error body instead of Node's bare status line.
 */
function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const code: HttpErrorCode =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? 'headers_too_large'
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 'request_timeout'
        : 'invalid_request';
  const { status, message } = httpErrors[code];
  const body = JSON.stringify({
    error: {
      code,
      message: code === 'invalid_request' ? 'the request is not valid HTTP' : message,
    },
  });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

/**
 * Serves an app of createHttpApp: adds its error handlers, listens, and on
 * close marks it draining (/readyz answers 503) before the server drains.
 */
export async function serveApp(
  http: HttpApp,
  options: Omit<ServeOptions, 'app'>,
): Promise<RunningServer> {
  const server = await serve({ ...options, app: http.finish() });
  return {
    ...server,
    close: async () => {
      http.drain();
      await server.close();
    },
  };
}
