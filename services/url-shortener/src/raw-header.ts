/**
 * A request header read straight from `req.rawHeaders`. Reading `req.headers`
 * makes node:http build the whole lower-cased header object, which a redirect
 * answered from the near cache would otherwise be the only reason to build.
 * Same answer as `req.headers[name]` for a lower-case name: the first value of
 * user-agent and referer (node:http drops their duplicates), the values of
 * any other header joined with ', '.
 */
export function rawHeader(rawHeaders: string[], name: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const field = rawHeaders[i]!;
    if (field.length !== name.length || field.toLowerCase() !== name) continue;
    if (value === undefined) value = rawHeaders[i + 1]!;
    else if (DROPPED_DUPLICATES.has(name)) continue;
    else value = `${value}, ${rawHeaders[i + 1]!}`;
  }
  return value;
}

/** The headers whose duplicates node:http discards that a redirect reads. */
const DROPPED_DUPLICATES = new Set(['user-agent', 'referer']);
