import tseslint from 'typescript-eslint'
import importDirection from './eslint-rules/import-direction.js'

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'bench/out/', 'test/fixtures/lint/', '.opsctl/'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    plugins: { opsctl: { rules: { 'import-direction': importDirection } } },
    rules: {
      'opsctl/import-direction': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'reference-service/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
)
