import type { z } from 'zod';
import { invalidField } from './errors.ts';

/** Parses input with a zod schema; the first problem becomes a 400 naming its field. */
export function parseInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  root = 'body',
): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;

  const issue = result.error.issues[0]!;
  const field = issue.path.length > 0 ? issue.path.join('.') : root;
  const twice = root === 'query' && repeated(issue, input);
  throw invalidField(field, twice ? 'given more than once' : issue.message);
}

/**
 * A query string that names a parameter twice arrives as an array, and zod
 * would say "expected string, received array", which names neither cause.
 */
function repeated(issue: z.core.$ZodIssue, input: unknown): boolean {
  if (issue.code !== 'invalid_type' || issue.expected === 'array') return false;
  let value = input;
  for (const key of issue.path) value = (value as Record<PropertyKey, unknown> | undefined)?.[key];
  return Array.isArray(value);
}
