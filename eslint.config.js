// nslab's lint: typescript-eslint's recommended rules with type information, the two
// promise rules that find unhandled rejections (a floating promise, a promise handed to
// something that ignores it), and React's rules of hooks for the browser app.
// Run by `npm run lint` and by the lint stage of `npm test` (scripts/test.mjs).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import { defineConfig } from 'eslint/config';

export default defineConfig(
  {
    // Build outputs, installed packages, test artifacts and the C helper's build.
    ignores: [
      '**/node_modules/',
      '**/dist/',
      '**/.tsbuild/',
      '**/.tsbuild-test/',
      '**/test-results/',
      '**/playwright-report/',
      'e2e/artifacts/',
      'bench/results/',
      'apps/server/native/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // Each file is checked against the tsconfig that `tsc -b` builds it with.
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node's runner awaits the promise test()/describe() return and reports a
          // rejection as a failed test itself: those calls float by design.
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      // A leading underscore names what is unused on purpose (an Express error handler's
      // fourth parameter); a rest sibling is how a key is left out of a copy.
      // A `let` read by a closure made before its one assignment (the hub the feed calls back
      // into) cannot be a const declared where it is assigned.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // The few plain-JavaScript scripts (the CLI launcher, the test command) run in Node
    // and are in no tsconfig: they are linted without type information.
    files: ['**/*.{js,mjs,cjs}'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: globals.node },
  },
  {
    // The rules of hooks and the React Compiler's rules that eslint-plugin-react-hooks 7's
    // `recommended-latest` carries (refs, purity, set-state-in-effect, immutability...), every
    // one an error: the app is not built with the compiler, but what they forbid is what makes
    // a component render wrong. A deliberate exception says why where it is made.
    files: ['apps/web/src/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: Object.fromEntries(Object.keys(reactHooks.configs['recommended-latest'].rules).map((rule) => [rule, 'error'])),
  },
  {
    // Playwright reads a fixture's first parameter as a pattern: a fixture that needs no
    // other fixture must still destructure `{}`.
    files: ['e2e/**/*.ts'],
    rules: { 'no-empty-pattern': ['error', { allowObjectPatternsAsParameters: true }] },
  },
);
