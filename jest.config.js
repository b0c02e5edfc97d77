const transform = {
  '^.+\\.ts$': [
    '@swc/jest',
    {
      jsc: { parser: { syntax: 'typescript' }, target: 'es2024' },
      module: { type: 'es6' },
    },
  ],
};

const common = {
  transform,
  extensionsToTreatAsEsm: ['.ts'],
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
};

/** Unit tests sit beside the code; tests that need real servers or processes live in test/. */
export default {
  // Integration tests join consumer groups and start processes: seconds, not milliseconds.
  testTimeout: 60_000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/{services,operators}/*/src/**/*.test.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/{services,operators}/*/test/**/*.test.ts'],
    },
    // Charts, image, dashboards, rules and load tests, checked with the real tools.
    { ...common, displayName: 'packaging', testMatch: ['<rootDir>/test/**/*.test.ts'] },
  ],
};
