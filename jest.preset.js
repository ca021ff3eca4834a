// Shared jest settings: swc transpiles (type checking is `npm run typecheck`), @keel/* aliases resolve to libs
// exactly as tsconfig.base.json's paths say (libs may nest, e.g. libs/retrieval/domain).
const path = require('node:path');
const root = __dirname;
const { compilerOptions } = require('./tsconfig.base.json');

const aliases = Object.fromEntries(
  Object.entries(compilerOptions.paths).map(([alias, [target]]) => [`^${alias}$`, path.join(root, target)]),
);

module.exports = {
  rootDir: root,
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  moduleNameMapper: aliases,
  modulePathIgnorePatterns: ['<rootDir>/dist', '<rootDir>/.kafka', '<rootDir>/tmp'],
};
