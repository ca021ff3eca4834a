import type { Violation } from '@keel/contracts';
import { type EventSubmission, eventSubmissionSchema } from '@keel/ingestion-domain';

/**
 * A line of the input: the event it holds, or why it holds none — `not-json`, or `invalid-request` (the code
 * the API answers for the same fault). Lines count from 1.
 */
export type ParsedLine =
  | { readonly line: number; readonly event: EventSubmission }
  | {
      readonly line: number;
      readonly error: 'not-json' | 'invalid-request';
      readonly violations: readonly Violation[];
    };

/** Parses one JSON line; blank lines are skipped (undefined). */
export function parseEventLine(text: string, line: number): ParsedLine | undefined {
  if (text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { line, error: 'not-json', violations: [{ path: '(line)', message: (error as Error).message }] };
  }
  const parsed = eventSubmissionSchema.safeParse(value);
  if (parsed.success) return { line, event: parsed.data };
  return {
    line,
    error: 'invalid-request',
    violations: parsed.error.issues.map((issue) => ({
      path: issue.path.map(String).join('.') || '(root)',
      message: issue.message,
    })),
  };
}
