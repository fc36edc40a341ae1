// Lint: typescript-eslint's type-checked rules for the TypeScript, the recommended rules
// for the JavaScript of the tests and benches, and the house rule that only src/cli/
// touches the terminal and the process's own arguments and exit.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const terminal = [
  ...['argv', 'exit', 'exitCode', 'stdout', 'stderr', 'stdin'].map((property) => ({
    object: 'process',
    property,
    message: 'Only src/cli/ touches the terminal, the arguments and the exit code.',
  })),
  ...['log', 'error', 'warn', 'info', 'debug'].map((property) => ({
    object: 'console',
    property,
    message: 'Only src/cli/ touches the terminal.',
  })),
];

export default tseslint.config(
  { ignores: ['dist/', 'build/', 'node_modules/', 'bench/out/'] },
  js.configs.recommended,
  {
    files: ['**/*.mjs', '**/*.js', '**/*.cjs'],
    languageOptions: { globals: { ...globals.node }, ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // Functions that Playwright runs inside the page.
    files: ['test/cli/lab-report.test.mjs'],
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
  },
  {
    files: ['src/**/*.ts', 'examples/**/*.ts'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'separate-type-imports' }],
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // `!` after a bounds-checked index is how noUncheckedIndexedAccess code says "checked".
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-restricted-properties': ['error', ...terminal],
    },
  },
  {
    // The command line, the entry points of the processes the lab starts, and a worker
    // process's entry point, which owns its process's signals and exit code.
    files: ['src/cli/**/*.ts', 'examples/**/*.ts', 'src/cluster/worker-main.ts'],
    rules: { 'no-restricted-properties': 'off' },
  },
);
