import type { Violation } from '@keel/contracts';
import { type EventSubmission, eventSubmissionSchema } from '@keel/ingestion-domain';

/** A line of the input: the event it holds, or why it holds none. Lines count from 1. */
export type ParsedLine =
  | { readonly line: number; readonly event: EventSubmission }
  | { readonly line: number; readonly violations: readonly Violation[] };

/** Parses one JSON line; blank lines are skipped (undefined). */
export function parseEventLine(text: string, line: number): ParsedLine | undefined {
  if (text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { line, violations: [{ path: '(line)', message: `not JSON: ${(error as Error).message}` }] };
  }
  const parsed = eventSubmissionSchema.safeParse(value);
  if (parsed.success) return { line, event: parsed.data };
  return {
    line,
    violations: parsed.error.issues.map((issue) => ({
      path: issue.path.map(String).join('.') || '(root)',
      message: issue.message,
    })),
  };
}
