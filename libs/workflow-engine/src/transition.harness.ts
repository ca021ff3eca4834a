import { type WorkflowDefinition } from './definition.schema';
import { type EmitEventCommand, type EngineCommand } from './engine-command';
import { type WorkflowInput } from './engine-input';
import { type PendingTimer, type WorkflowInstanceState } from './instance-state';
import { type JsonValue, deepFreeze } from './json-value';
import { type TransitionResult, transition } from './transition';

/** Scenario-test driver: feeds inputs one at a time on a manual clock and freezes every state it passes in. */
export class Harness {
  state: WorkflowInstanceState | undefined;
  readonly results: TransitionResult[] = [];
  nowMs = Date.parse('2025-03-01T08:00:00.000Z');

  constructor(readonly definition: WorkflowDefinition) {}

  get current(): WorkflowInstanceState {
    if (this.state === undefined) throw new Error('not started');
    return this.state;
  }

  get last(): TransitionResult {
    const result = this.results.at(-1);
    if (result === undefined) throw new Error('no transition yet');
    return result;
  }

  async start(input: JsonValue = {}, instanceId = 'inst-1'): Promise<TransitionResult> {
    return this.send({ type: 'start', instanceId, input });
  }

  /** Freezing the state handed in proves `transition` never mutates its argument (it would throw). */
  async send(input: WorkflowInput): Promise<TransitionResult> {
    const result = await transition(
      this.definition,
      this.state === undefined ? undefined : deepFreeze(this.state),
      input,
      new Date(this.nowMs),
    );
    this.results.push(result);
    this.state = result.state;
    return result;
  }

  /** Round-trips state through JSON, as persisting it and reading it back after a crash would. */
  crashAndReload(): void {
    this.state = JSON.parse(JSON.stringify(this.current)) as WorkflowInstanceState;
  }

  advance(ms: number): void {
    this.nowMs += ms;
  }

  execution(stepId: string) {
    const execution = this.current.executions[stepId];
    if (execution === undefined) throw new Error(`step '${stepId}' never ran`);
    return execution;
  }

  async succeed(stepId: string, output: JsonValue = {}): Promise<TransitionResult> {
    const { run, attempt } = this.execution(stepId);
    return this.send({ type: 'task.succeeded', stepId, run, attempt, output });
  }

  async fail(stepId: string, retryable: boolean, error = 'boom'): Promise<TransitionResult> {
    const { run, attempt } = this.execution(stepId);
    return this.send({ type: 'task.failed', stepId, run, attempt, error, retryable });
  }

  async compensated(stepId: string): Promise<TransitionResult> {
    const entry = [...this.current.compensations].reverse().find((candidate) => candidate.stepId === stepId);
    if (entry === undefined) throw new Error(`no compensation for '${stepId}'`);
    return this.send({ type: 'compensation.succeeded', stepId, run: entry.run, attempt: entry.attempt });
  }

  timer(purpose: PendingTimer['purpose'], stepId: string): PendingTimer {
    const timer = Object.values(this.current.timers).find(
      (candidate) => candidate.purpose === purpose && candidate.stepId === stepId,
    );
    if (timer === undefined) throw new Error(`no pending ${purpose} timer for '${stepId}'`);
    return timer;
  }

  /** Moves the clock to the timer's due time and fires it. */
  async fire(purpose: PendingTimer['purpose'], stepId: string): Promise<TransitionResult> {
    const timer = this.timer(purpose, stepId);
    this.nowMs = Math.max(this.nowMs, Date.parse(timer.dueAt));
    return this.send({ type: 'timer.fired', timerId: timer.timerId });
  }
}

export function commandsOf<Type extends EngineCommand['type']>(
  result: TransitionResult,
  type: Type,
): Array<Extract<EngineCommand, { type: Type }>> {
  return result.commands.filter(
    (command): command is Extract<EngineCommand, { type: Type }> => command.type === type,
  );
}

export function eventsOf(result: TransitionResult): Array<EmitEventCommand['event']> {
  return commandsOf(result, 'emitEvent').map((command) => command.event);
}
