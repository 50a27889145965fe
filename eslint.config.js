import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.data/**', '.perf/**', 'coverage/**', 'infra/**/*.json', 'web/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', performance: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  // TypeScript already checks names (DOM globals in web/, Node's elsewhere), as typescript-eslint advises.
  { files: ['**/*.ts', '**/*.tsx'], rules: { 'no-undef': 'off' } },
);
