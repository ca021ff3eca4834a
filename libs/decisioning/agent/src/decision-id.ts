import { type DecisionTrigger } from '@keel/decisioning-domain';
import { createHash } from 'node:crypto';

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** One id per trigger, so a redelivered event yields the same decision and downstream deduplication holds. */
export function decisionIdOf(trigger: DecisionTrigger): string {
  return `dec-${sha256Hex(`${trigger.kind}:${trigger.eventId}`).slice(0, 32)}`;
}

/** The id of a shadow release's decision on a trigger: one per trigger and release, never production's. */
export function shadowDecisionIdOf(trigger: DecisionTrigger, release: string): string {
  return `dec-${sha256Hex(`${trigger.kind}:${trigger.eventId}:shadow:${release}`).slice(0, 32)}`;
}
