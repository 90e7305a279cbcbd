// ESLint 9 flat config: typescript-eslint's recommended rules (no type information needed, so it
// stays fast) and the layer boundaries of src/ (import-x/no-restricted-paths on resolved paths).
// Formatting is Prettier's job (.prettierrc.json); no stylistic rules here.
import js from '@eslint/js';
import importX from 'eslint-plugin-import-x';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    ignores: ['dist/', 'node_modules/', 'coverage/', 'bench/results/', 'test-artifacts/', 'test/fixtures/', 'data/'],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      // Imports are written with .js (NodeNext) and point at .ts sources.
      'import-x/resolver-next': [importX.createNodeResolver({ extensions: ['.ts', '.js', '.json', '.node'], extensionAlias: { '.js': ['.ts', '.js'] } })],
    },
    rules: {
      // A leading underscore marks what is unused on purpose (`_row`, `(_req, reply) =>`).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      // Type-only imports are already written `import type` throughout; `typeof import('x')` stays allowed
      // (lazily loaded SDKs are typed that way).
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'separate-type-imports', disallowTypeAnnotations: false }],
      // `any` is deliberate where it is used (Kysely's Transaction<any> in migrations, test doubles).
      '@typescript-eslint/no-explicit-any': 'off',
      // Stripping control characters with /[\u0000-\u001f]/ is intended wherever text is cleaned.
      'no-control-regex': 'off',
      'import-x/no-restricted-paths': [
        'error',
        {
          basePath: import.meta.dirname,
          zones: [
            {
              target: './src/lib',
              from: ['./src/db', './src/http', './src/features', './src/app.ts'],
              message: 'src/lib holds pure helpers: no database, HTTP or feature code.',
            },
            {
              target: './src/db',
              from: ['./src/http', './src/features'],
              message: 'src/db (migrations included) must not depend on HTTP or feature code.',
            },
            {
              target: './src/features',
              from: ['./src/app.ts', './src/server.ts', './src/cli.ts', './src/cluster.ts'],
              message: 'Features are wired by the entry points, never the other way round.',
            },
            {
              target: './src',
              from: ['./test', './bench'],
              message: 'Application code must not import tests or benchmarks.',
            },
          ],
        },
      ],
    },
  },
);
