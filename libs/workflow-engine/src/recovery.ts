import { definitionIndex, taskStep } from './definition-index';
import { type WorkflowDefinition } from './definition.schema';
import { attemptCommand, type EngineCommand } from './engine-command';
import { type WorkflowInstanceState, assertPinned, isTerminal } from './instance-state';

/**
 * The commands that re-establish everything an instance is waiting on, derived from its state alone: in-flight
 * task and compensation attempts (same idempotency keys, so downstream deduplicates), pending timers, approval
 * and decision requests. For a shell that lost its outbox or timer table; an intact transactional outbox makes
 * this unnecessary. Only the steps that are actually waiting appear, so a parallel branch parked on an approval
 * is re-armed without disturbing the others.
 *
 * @throws WorkflowEngineError `definition-mismatch` when `definition` is not the one the instance is pinned to.
 */
export function recoveryCommands(
  definition: WorkflowDefinition,
  state: WorkflowInstanceState,
): EngineCommand[] {
  assertPinned(definition, state);
  if (isTerminal(state.status)) return [];
  const index = definitionIndex(definition);
  const commands: EngineCommand[] = [];
  for (const execution of Object.values(state.executions)) {
    const { stepId, run, attempt, idempotencyKey, call } = execution;
    if (
      execution.kind !== 'task' ||
      execution.status !== 'running' ||
      idempotencyKey === undefined ||
      call === undefined
    ) {
      continue;
    }
    const source = { stepId, run, attempt, idempotencyKey, call };
    commands.push(attemptCommand('executeTask', source, taskStep(index, stepId)));
  }
  for (const entry of state.compensations) {
    const { stepId, run, attempt, idempotencyKey, call } = entry;
    if (entry.status !== 'running' || call === undefined) continue;
    const source = { stepId, run, attempt, idempotencyKey, call };
    commands.push(attemptCommand('executeCompensation', source, taskStep(index, stepId)));
  }
  for (const timer of Object.values(state.timers)) {
    commands.push({
      type: 'scheduleTimer',
      timerId: timer.timerId,
      dueAt: timer.dueAt,
      purpose: timer.purpose,
      stepId: timer.stepId,
    });
  }
  for (const approval of Object.values(state.approvals)) commands.push(approval.request);
  for (const decision of Object.values(state.decisions)) commands.push(decision.request);
  return commands;
}
