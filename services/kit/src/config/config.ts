import { z } from 'zod';

/** Thrown when the environment does not satisfy a schema; the message is one line. */
export class ConfigError extends Error {
  readonly variable: string;

  constructor(variable: string, problem: string) {
    super(`invalid configuration: ${variable}: ${problem}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

type Env = Record<string, string | undefined>;

/**
 * Parses environment variables once against a zod object schema whose keys are
 * the variable names. Empty strings count as unset so defaults apply.
 */
export function parseConfig<S extends z.ZodObject>(schema: S, env: Env): Readonly<z.infer<S>> {
  const present: Env = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') present[key] = value.trim();
  }

  const result = schema.safeParse(present);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const variable = String(issue.path[0] ?? 'environment');
    throw new ConfigError(variable, issue.message);
  }
  return Object.freeze(result.data);
}

/** Like parseConfig, but a bad value ends the process with one line on stderr. */
export function loadConfig<S extends z.ZodObject>(
  schema: S,
  env: Env = process.env,
): Readonly<z.infer<S>> {
  try {
    return parseConfig(schema, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}

/** Helpers for common variable shapes. */
export const env = {
  port: (fallback: number) => z.coerce.number().int().min(1).max(65535).default(fallback),
  positiveInt: (fallback: number) => z.coerce.number().int().positive().default(fallback),
  number: (fallback: number) => z.coerce.number().finite().default(fallback),
  bool: (fallback: boolean) =>
    z
      .string()
      .toLowerCase()
      .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' }))
      .transform((value) => value === 'true' || value === '1' || value === 'yes')
      .default(fallback),
  list: () =>
    z.string().transform((value) =>
      value
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item.length > 0),
    ),
  hostPorts: () =>
    z
      .string()
      .transform((value) => value.split(',').map((item) => item.trim()))
      .pipe(
        z.array(z.string().refine(isHostPort, { message: 'expected host:port[,host:port...]' })),
      ),
};

/** host:port with the port in 1-65535. */
function isHostPort(item: string): boolean {
  const port = Number(/^[\w.-]+:(\d{1,5})$/.exec(item)?.[1]);
  return port >= 1 && port <= 65535;
}
