import express from 'express';
import { z } from 'zod';
import { AppError } from './errors.ts';
import { parseInput } from './validate.ts';

const query = z.object({
  from: z.string(),
  limit: z.coerce.number().int().min(1).optional(),
  tags: z.array(z.string()).optional(),
});

/** The query express makes of a query string (its default parser, qs). */
function parsedQuery(search: string): unknown {
  const app = express();
  let seen: unknown;
  app.get('/', (req, res) => {
    seen = req.query;
    res.end();
  });
  const req = { method: 'GET', url: `/?${search}`, headers: {} };
  const res = { setHeader: () => undefined, end: () => undefined, getHeader: () => undefined };
  app(req as never, res as never, () => undefined);
  return seen;
}

function problem(run: () => unknown): { field?: string; message: string } {
  try {
    run();
  } catch (error) {
    if (error instanceof AppError) return { field: error.field, message: error.message };
    throw error;
  }
  throw new Error('no problem found');
}

describe('parseInput', () => {
  it('names a query parameter given twice as such', () => {
    expect(problem(() => parseInput(query, parsedQuery('from=a&from=b'), 'query'))).toEqual({
      field: 'from',
      message: 'given more than once',
    });
    expect(
      problem(() => parseInput(query, parsedQuery('from=a&limit=1&limit=2'), 'query')),
    ).toEqual({ field: 'limit', message: 'given more than once' });
  });

  it('leaves other problems in their own words', () => {
    expect(parseInput(query, parsedQuery('from=a&tags=x&tags=y'), 'query')).toEqual({
      from: 'a',
      tags: ['x', 'y'],
    });
    expect(problem(() => parseInput(query, parsedQuery('limit=0'), 'query')).field).toBe('from');
    const zero = problem(() => parseInput(query, parsedQuery('from=a&limit=0'), 'query'));
    expect(zero.field).toBe('limit');
    expect(zero.message).not.toContain('more than once');
    // A JSON body with an array where a string belongs is not a repeated parameter.
    expect(problem(() => parseInput(query, { from: ['a', 'b'] })).message).not.toContain('once');
  });
});
