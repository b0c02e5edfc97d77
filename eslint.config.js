import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '.data/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'read configuration in config.ts only' },
      ],
    },
  },
  {
    files: [
      '**/config.ts',
      '**/config/*.ts',
      '**/main.ts',
      '**/*.test.ts',
      '**/test/**',
      '**/testing/**',
      '**/start.ts',
      '**/bench/**',
      'scripts/*.ts',
      '*.js',
    ],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    files: ['**/*.test.ts', '**/test/**', '**/testing/**'],
    languageOptions: { globals: { ...globals.jest } },
  },
);
