import { z } from 'zod';

/**
 * The client side of the handler admin contract (README.md, "Handler admin
 * contract"): every chat handler pod answers these on its admin port.
 */

/** GET /admin/load */
export const loadSchema = z.object({
  handler: z.string(),
  connections: z.number().int().min(0),
  draining: z.number().int().min(0),
});
export type HandlerLoadReport = z.infer<typeof loadSchema>;

/** POST /admin/drain answers 202 with this. */
const acceptedSchema = z.object({ accepted: z.number().int().min(0) });

export interface DrainRequest {
  /** Connections to close; 0 cancels the drain in progress. Replaces, never adds to, a drain. */
  connections: number;
  /** Connections per second; > 0. */
  perSecond: number;
}

/** Thrown when a handler cannot be reached or answers outside the contract. */
export class HandlerAdminError extends Error {
  readonly url: string;

  constructor(url: string, problem: string, options?: { cause?: unknown }) {
    super(`${url}: ${problem}`, options);
    this.name = 'HandlerAdminError';
    this.url = url;
  }
}

export interface HandlerAdmin {
  load(baseUrl: string): Promise<HandlerLoadReport>;
  drain(baseUrl: string, request: DrainRequest): Promise<number>;
}

/** The contract over HTTP (fetch), each call bounded by `timeoutMs`. */
export function httpHandlerAdmin(timeoutMs: number): HandlerAdmin {
  const call = async (url: string, init: RequestInit, expected: number): Promise<unknown> => {
    let response: Response;
    try {
      response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      throw new HandlerAdminError(url, 'unreachable', { cause: error });
    }
    const text = await response.text();
    if (response.status !== expected) {
      throw new HandlerAdminError(url, `answered ${response.status}: ${text.slice(0, 200)}`);
    }
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new HandlerAdminError(url, 'answered a body that is not JSON', { cause: error });
    }
  };

  return {
    async load(baseUrl) {
      const url = `${baseUrl}/admin/load`;
      const parsed = loadSchema.safeParse(await call(url, { method: 'GET' }, 200));
      if (!parsed.success) throw new HandlerAdminError(url, `bad load: ${parsed.error.message}`);
      return parsed.data;
    },

    async drain(baseUrl, request) {
      const url = `${baseUrl}/admin/drain`;
      const body = JSON.stringify(request);
      const init = { method: 'POST', body, headers: { 'content-type': 'application/json' } };
      const parsed = acceptedSchema.safeParse(await call(url, init, 202));
      if (!parsed.success) throw new HandlerAdminError(url, `bad answer: ${parsed.error.message}`);
      return parsed.data.accepted;
    },
  };
}
