import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';

const statementsSchema = z.record(
  z.string().regex(/^[A-Za-z][\w.-]*$/, 'statement names are identifiers'),
  z.string().min(1),
);

/** Reads the named SQL statements Postgres tasks may run; a bad file stops the service naming the problem. */
export function loadPostgresStatements(file: string): Record<string, string> {
  const parsed = statementsSchema.safeParse(parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    throw new Error(
      `${file}: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}
