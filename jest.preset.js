// Shared jest settings: swc transpiles (type checking is `npm run typecheck`), @keel/* aliases resolve to libs.
const path = require('node:path');
const root = __dirname;

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
  moduleNameMapper: { '^@keel/(.*)$': path.join(root, 'libs/$1/src/index.ts') },
  modulePathIgnorePatterns: ['<rootDir>/dist', '<rootDir>/.kafka', '<rootDir>/tmp'],
};
