import { spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ConfigError, env, parseConfig } from './config.ts';

const schema = z.object({
  PORT: env.port(8080),
  WORKERS: env.positiveInt(4),
  RATIO: env.number(0.5),
  VERBOSE: env.bool(false),
  ORIGINS: env.list().optional(),
  BROKERS: env.hostPorts().optional(),
  NAME: z.string().default('kit'),
});

/** The one-line message parseConfig throws, or undefined when the environment is valid. */
function problemWith(environment: Record<string, string>): string | undefined {
  try {
    parseConfig(schema, environment);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
}

describe('parseConfig', () => {
  it('applies every default when nothing is set', () => {
    expect(parseConfig(schema, {})).toEqual({
      PORT: 8080,
      WORKERS: 4,
      RATIO: 0.5,
      VERBOSE: false,
      NAME: 'kit',
    });
  });

  it('treats empty and blank values as unset', () => {
    const config = parseConfig(schema, { PORT: '', WORKERS: '   ', NAME: '', BROKERS: '' });

    expect(config).toMatchObject({ PORT: 8080, WORKERS: 4, NAME: 'kit' });
    expect(config.BROKERS).toBeUndefined();
  });

  it('parses and trims what is set', () => {
    const config = parseConfig(schema, {
      PORT: ' 3000 ',
      WORKERS: '16',
      RATIO: '-1.25',
      NAME: '  api  ',
    });

    expect(config).toMatchObject({ PORT: 3000, WORKERS: 16, RATIO: -1.25, NAME: 'api' });
  });

  it('keeps only the variables the schema names and freezes the result', () => {
    const config = parseConfig(schema, { PORT: '3000', HOME: '/root', SECRET_TOKEN: 'x' });

    expect(Object.keys(config)).not.toContain('HOME');
    expect(Object.keys(config)).not.toContain('SECRET_TOKEN');
    expect(Object.isFrozen(config)).toBe(true);
  });

  it.each([
    ['not a number', 'http'],
    ['zero', '0'],
    ['above 65535', '65536'],
    ['a fraction', '80.5'],
    ['negative', '-1'],
  ])('refuses a port that is %s in one line naming PORT', (_what, value) => {
    const message = problemWith({ PORT: value });

    expect(message).toMatch(/^invalid configuration: PORT: \S/);
    expect(message).not.toContain('\n');
  });

  it.each(['1', '65535'])('accepts the port %s', (value) => {
    expect(parseConfig(schema, { PORT: value }).PORT).toBe(Number(value));
  });

  it('refuses a positive integer that is zero and a number that is not one', () => {
    expect(problemWith({ WORKERS: '0' })).toMatch(/^invalid configuration: WORKERS: /);
    expect(problemWith({ RATIO: 'half' })).toMatch(/^invalid configuration: RATIO: /);
  });

  it('reports the first bad variable only, on one line', () => {
    const message = problemWith({ PORT: 'x', WORKERS: 'y', BROKERS: 'z' });

    expect(message).toMatch(/^invalid configuration: PORT: [^\n]+$/);
  });

  it('carries the variable on the error', () => {
    expect(() => parseConfig(schema, { VERBOSE: 'maybe' })).toThrow(
      expect.objectContaining({ name: 'ConfigError', variable: 'VERBOSE' }),
    );
  });
});

describe('env helpers', () => {
  it.each([
    ['true', true],
    ['1', true],
    ['yes', true],
    ['false', false],
    ['0', false],
    ['no', false],
    ['TRUE', true],
    ['No', false],
  ])('reads the flag %s as %s', (value, expected) => {
    expect(parseConfig(schema, { VERBOSE: value }).VERBOSE).toBe(expected);
  });

  it('falls back for an unset flag', () => {
    const flags = z.object({ ON: env.bool(true), OFF: env.bool(false) });

    expect(parseConfig(flags, {})).toEqual({ ON: true, OFF: false });
  });

  it('refuses a flag that is not one of the known words', () => {
    expect(problemWith({ VERBOSE: 'maybe' })).toBe(
      'invalid configuration: VERBOSE: expected true or false',
    );
  });

  it('splits a list on commas, trimming and dropping empty items', () => {
    expect(parseConfig(schema, { ORIGINS: 'a.example, b.example,, c.example ,' }).ORIGINS).toEqual([
      'a.example',
      'b.example',
      'c.example',
    ]);
  });

  it('reads a host:port list', () => {
    const config = parseConfig(schema, {
      BROKERS: 'kafka-0:9092, kafka-1.internal:19092,10.0.0.7:1',
    });

    expect(config.BROKERS).toEqual(['kafka-0:9092', 'kafka-1.internal:19092', '10.0.0.7:1']);
  });

  it.each([
    ['a host without a port', 'kafka-0:9092,kafka-1'],
    ['a port without a host', ':9092'],
    ['a port that is not a number', 'kafka-0:http'],
    ['a trailing comma', 'kafka-0:9092,'],
    ['a url', 'http://kafka-0:9092'],
    ['port 0', 'kafka-0:0'],
    ['a port above 65535', 'kafka-0:99999'],
  ])('refuses a host:port list with %s in one line', (_what, value) => {
    expect(problemWith({ BROKERS: value })).toBe(
      'invalid configuration: BROKERS: expected host:port[,host:port...]',
    );
  });
});

describe('loadConfig', () => {
  const configModule = fileURLToPath(new URL('./config.ts', import.meta.url));

  /** Runs loadConfig in a child process with the given variables set. */
  function load(variables: Record<string, string>) {
    const script = [
      "import { z } from 'zod';",
      `import { env, loadConfig } from ${JSON.stringify(configModule)};`,
      'const schema = z.object({ KIT_TEST_PORT: env.port(8080), KIT_TEST_NAME: z.string() });',
      'process.stdout.write(JSON.stringify(loadConfig(schema)));',
    ].join('\n');
    return spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: dirname(configModule),
      env: { PATH: process.env.PATH, ...variables },
      encoding: 'utf8',
      timeout: 20_000,
    });
  }

  it('reads process.env when the environment is valid', () => {
    const child = load({ KIT_TEST_PORT: '9000', KIT_TEST_NAME: 'api' });

    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    expect(JSON.parse(child.stdout)).toEqual({ KIT_TEST_PORT: 9000, KIT_TEST_NAME: 'api' });
  });

  it('writes one line to stderr and exits 1 on a bad value', () => {
    const child = load({ KIT_TEST_PORT: 'eighty', KIT_TEST_NAME: 'api' });

    expect(child.status).toBe(1);
    expect(child.stdout).toBe('');
    expect(child.stderr).toMatch(/^invalid configuration: KIT_TEST_PORT: [^\n]+\n$/);
  });

  it('exits 1 naming a required variable that is missing', () => {
    const child = load({ KIT_TEST_NAME: '' });

    expect(child.status).toBe(1);
    expect(child.stderr).toMatch(/^invalid configuration: KIT_TEST_NAME: [^\n]+\n$/);
  });
});
