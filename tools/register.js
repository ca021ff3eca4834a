// Runs TypeScript sources directly (services, CLI tools, test child processes): swc transpiles
// with decorator metadata (NestJS DI needs it) and resolves the @keel/* path aliases of tsconfig.base.json.
const path = require('node:path');
process.env.SWC_NODE_PROJECT ??= path.join(__dirname, '..', 'tsconfig.base.json');
process.env.TZ ??= 'UTC';
require('@swc-node/register');
