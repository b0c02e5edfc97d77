import { isBase62 } from './base62.ts';

/** Paths the service answers itself; an alias must never shadow them. */
export const RESERVED_PATHS = new Set([
  'urls',
  'healthz',
  'readyz',
  'metrics',
  'api',
  'stats',
  'admin',
  'static',
  'assets',
  'docs',
  'favicon.ico',
  'robots.txt',
]);

/** Any code a link can have, generated (base62) or an alias: what a redirect looks up. */
export const CODE = '[A-Za-z0-9_-]{1,64}';
export const isCode = (value: string): boolean => CODE_ONLY.test(value);
const CODE_ONLY = new RegExp(`^${CODE}$`);

const ALIAS = /^[A-Za-z0-9_-]{3,64}$/;

/**
 * A reason the alias cannot be used, or undefined. Aliases of exactly the
 * generated code length in base62 are refused: they live in the generated
 * codes' space, where a later counter could produce the same code.
 */
export function aliasProblem(alias: string, codeLength: number): string | undefined {
  if (!ALIAS.test(alias)) return 'must be 3-64 characters of A-Z, a-z, 0-9, _ and -';
  if (RESERVED_PATHS.has(alias.toLowerCase())) return 'is reserved by the service';
  if (alias.length === codeLength && isBase62(alias)) {
    return `must not be ${codeLength} letters and digits only (the generated code space)`;
  }
  return undefined;
}
