import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // .venv: the test tools' Python virtualenv (moto), which ships browser JavaScript.
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'bench/.build/', '.venv/', 'dist.next-*/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', performance: 'readonly', Buffer: 'readonly', fetch: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' } },
  },
);
