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
  throw invalidField(field, issue.message);
}
