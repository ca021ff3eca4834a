/**
 * Checks a service schema name before it is interpolated into SQL as an identifier (DDL cannot take it as
 * a parameter), so it must be a plain lower-case one.
 */
export function assertSchemaName(schema: string): void {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid schema name '${schema}'`);
}
