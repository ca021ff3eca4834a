import { CronExpressionParser } from 'cron-parser';
import { type WorkflowDefinition } from './definition.schema';

/** Checks a cron expression (5 or 6 fields, evaluated in UTC); returns the parser's complaint or `undefined`. */
export function cronProblem(cron: string): string | undefined {
  try {
    CronExpressionParser.parse(cron, { tz: 'UTC', currentDate: new Date(0) });
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * When a scheduled definition should next start an instance strictly after `after` (UTC), or `undefined` for
 * definitions without a schedule. The shell's scheduler owns the clock; this only does the arithmetic.
 */
export function nextScheduledStart(definition: WorkflowDefinition, after: Date): Date | undefined {
  if (definition.schedule === undefined) return undefined;
  return CronExpressionParser.parse(definition.schedule.cron, { tz: 'UTC', currentDate: after })
    .next()
    .toDate();
}
