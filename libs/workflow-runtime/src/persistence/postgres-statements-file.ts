import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';

/** A statement Postgres tasks may run, and the templates allowed to run it. */
export interface PostgresStatement {
  readonly sql: string;
  /** Template names; a template not listed cannot run the statement, whatever its definition says. */
  readonly templates: readonly string[];
}

const statementsSchema = z.record(
  z.string().regex(/^[A-Za-z][\w.-]*$/, 'statement names are identifiers'),
  z.strictObject({
    sql: z.string().min(1),
    templates: z.array(z.string().min(1)).min(1, 'name at least one template allowed to run it'),
  }),
);

/**
 * Reads the named SQL statements Postgres tasks may run (`name: { sql, templates: [...] }`); a bad file stops
 * the service naming the problem.
 */
export function loadPostgresStatements(file: string): Record<string, PostgresStatement> {
  const parsed = statementsSchema.safeParse(parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    throw new Error(
      `${file}: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}
