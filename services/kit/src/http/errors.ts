/** The kit's error catalogue: a stable code, its HTTP status and a default message. */
export const httpErrors = {
  invalid_request: { status: 400, message: 'the request is invalid' },
  not_found: { status: 404, message: 'not found' },
  request_timeout: { status: 408, message: 'the request did not arrive in time' },
  conflict: { status: 409, message: 'the resource is in a conflicting state' },
  idempotency_in_flight: {
    status: 409,
    message: 'a request with this Idempotency-Key is still being processed',
  },
  payload_too_large: { status: 413, message: 'the request body is too large' },
  unsupported_media_type: { status: 415, message: 'expected a JSON body' },
  idempotency_key_reused: {
    status: 422,
    message: 'this Idempotency-Key was used with a different request',
  },
  rate_limited: { status: 429, message: 'too many requests' },
  headers_too_large: { status: 431, message: 'the request line and headers are too large' },
  internal: { status: 500, message: 'internal error' },
  unavailable: { status: 503, message: 'a dependency is unavailable' },
} as const;

export type HttpErrorCode = keyof typeof httpErrors;

export interface ErrorCatalogueEntry {
  status: number;
  message: string;
}

/** An error meant for the client: a code, a status and, for bad input, the field at fault. */
export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;

  constructor(
    code: string,
    status: number,
    message: string,
    field?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AppError';
    this.code = code;
    this.status = status;
    this.field = field;
  }

  /** Builds an AppError from a catalogue entry, optionally naming the field and message. */
  static of<C extends Record<string, ErrorCatalogueEntry>>(
    catalogue: C,
    code: keyof C & string,
    details: { field?: string; message?: string; cause?: unknown } = {},
  ): AppError {
    const entry = catalogue[code]!;
    return new AppError(code, entry.status, details.message ?? entry.message, details.field, {
      cause: details.cause,
    });
  }
}

/** 400 naming the field that is wrong. */
export function invalidField(field: string, message: string): AppError {
  return AppError.of(httpErrors, 'invalid_request', { field, message });
}

export function httpError(
  code: HttpErrorCode,
  details: { field?: string; message?: string; cause?: unknown } = {},
): AppError {
  return AppError.of(httpErrors, code, details);
}
