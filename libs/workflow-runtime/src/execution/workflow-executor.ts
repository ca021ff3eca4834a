import {
  type ApprovalEvent,
  buildEvent,
  type CloudEvent,
  type topics as registryTopics,
  type WorkflowEvent,
} from '@keel/contracts';
import type { OutboxWriter } from '@keel/messaging';
import {
  type IgnoredInput,
  type InstanceStatus,
  type JsonValue,
  type EngineCommand,
  type WorkflowDefinition,
  type WorkflowInput,
  type WorkflowInstanceState,
  isTerminal,
  transition,
} from '@keel/workflow-engine';
import type { EntityManager } from 'typeorm';
import type { DefinitionRegistry } from '../persistence/definition.registry';
import type {
  CheckpointResult,
  ClaimedTask,
  InstanceOwner,
  QueuedTask,
  StoredInstance,
  TransitionRecord,
  WorkerTurn,
  WorkflowRepositories,
} from '../persistence/workflow-repositories';
import type { WorkflowMetrics } from '../workflow.metrics';
import { WorkflowRuntimeError } from '../workflow-runtime.error';

export interface TransitionOutcome {
  readonly instanceId: string;
  readonly status: InstanceStatus;
  readonly ignored?: IgnoredInput;
}

export interface StartRequest {
  readonly instanceId: string;
  readonly workflow: string;
  /** Omitted: the newest registered version. The instance stays pinned to the version it started on. */
  readonly version?: number;
  readonly input: JsonValue;
  readonly owner: InstanceOwner;
  /** Id of the event that caused this, for the causation chain of emitted events. */
  readonly causationId?: string;
  /**
   * The trace the start continues, when it is not the active one: starts of a run applied together each
   * continue their own command's trace, so what they queue and emit stays in that case's trace.
   */
  readonly traceparent?: string;
}

/** A start request with what the engine made of it, before the insert tells whether it is new. */
interface PreparedStart {
  readonly request: StartRequest;
  readonly definition: WorkflowDefinition;
  readonly release: string | undefined;
  readonly input: WorkflowInput;
  readonly result: Awaited<ReturnType<typeof transition>>;
}

/** What a group applied: each input's outcome, the attempts claimed for the worker, whether some were left queued. */
export interface AppliedGroup {
  readonly outcomes: TransitionOutcome[];
  readonly claimed: ClaimedTask[];
  readonly attemptsLeftQueued: boolean;
}

/** An input for `applyAll`: one of many applied in the same transaction. */
export interface InstanceInput {
  readonly instanceId: string;
  readonly input: WorkflowInput;
  readonly causationId?: string;
  /**
   * The trace this input continues, when it is not the active one: a group of results applied together
   * each continues its own attempt's trace, so what it queues and emits stays in that case's trace.
   */
  readonly traceparent?: string;
}

/**
 * What the transitions of one transaction write, gathered so each table gets one statement however many
 * instances moved (a group commit writes the results of many).
 */
class TransitionWrites {
  readonly checkpoints = new Map<string, WorkflowInstanceState>();
  /** Timer rows armed or cancelled, each a statement of its own before the checkpoint. */
  readonly timers: Array<{
    readonly instanceId: string;
    readonly command: Extract<EngineCommand, { type: 'scheduleTimer' | 'cancelTimer' }>;
  }> = [];
  /**
   * Counted once the checkpoint's transaction commits: a transition run on a kept state may be run again, and
   * a consumer's run that rolls back is redone.
   */
  readonly counted: Array<() => void> = [];
  readonly tasks: QueuedTask[] = [];
  readonly log: TransitionRecord[] = [];
  readonly events: Array<CloudEvent<WorkflowEvent>> = [];
  readonly approvals: Array<CloudEvent<ApprovalEvent>> = [];
  readonly finished = new Set<string>();
}

export interface WorkflowExecutorDeps {
  readonly registry: DefinitionRegistry;
  readonly repositories: Pick<WorkflowRepositories, 'checkpoints' | 'instances' | 'tombstones' | 'timers'>;
  readonly outbox: Pick<OutboxWriter, 'records' | 'insert' | 'written'>;
  readonly topics: Pick<typeof registryTopics, 'workflowEvents' | 'approvals'>;
  readonly now: () => Date;
  readonly source: string;
  readonly metrics?: WorkflowMetrics;
}

/**
 * The one way an instance changes: lock it, run the pure engine, and in the same transaction store the
 * checkpoint, append the transition log, queue tasks, arm or cancel timers and write the emitted events
 * to the outbox. Callers supply the transaction (a consumer's, an API request's, a worker's).
 */
export class WorkflowExecutor {
  constructor(private readonly deps: WorkflowExecutorDeps) {}

  async start(manager: EntityManager, request: StartRequest): Promise<TransitionOutcome> {
    const [outcome] = await this.startAll(manager, [request]);
    if (!outcome) throw new Error('startAll answered no outcome for its one request');
    return outcome;
  }

  /**
   * Starts instances in the caller's transaction (a run of start commands of one partition, or one API
   * request): one insert for all of them, one tombstone read, one checkpoint statement and one outbox insert,
   * however many. Outcomes come in the order of the requests; a request for an id that an earlier one in the
   * same call started, or that exists already, starts nothing (`already-started`).
   */
  async startAll(manager: EntityManager, requests: readonly StartRequest[]): Promise<TransitionOutcome[]> {
    if (requests.length === 0) return [];
    const { registry } = this.deps;
    const { instances, tombstones } = this.deps.repositories;
    const prepared: PreparedStart[] = [];
    // Resolved once per workflow and version asked for: an unversioned start reads the newest stored version,
    // one statement, which a run of starts of one template would otherwise repeat for each.
    const resolved = new Map<string, Awaited<ReturnType<DefinitionRegistry['resolveStart']>>>();
    for (const request of requests) {
      const asked = `${request.workflow}@${request.version ?? 'newest'}`;
      // The instance names the release it started under (the one whose version it got, when unversioned).
      const { definition, release } =
        resolved.get(asked) ?? (await registry.resolveStart(manager, request.workflow, request.version));
      resolved.set(asked, { definition, release });
      const input: WorkflowInput = { type: 'start', instanceId: request.instanceId, input: request.input };
      const result = await transition(definition, undefined, input, this.deps.now());
      prepared.push({ request, definition, release, input, result });
    }
    const candidates = new Map<string, PreparedStart>();
    for (const start of prepared)
      if (!candidates.has(start.request.instanceId)) candidates.set(start.request.instanceId, start);
    // The insert is the existence check: a redelivered start finds the row and changes nothing, and a start
    // of an instance retention deleted finds its tombstone. The tombstones are read after the insert, in a
    // statement of their own, so a start racing the pruner on the same id (the insert waits for the delete
    // to commit) still sees it.
    const inserted = await instances.insertAll(
      manager,
      [...candidates.values()].map(({ request, result, release }) => ({
        state: result.state,
        owner: request.owner,
        ...(release === undefined ? {} : { release }),
      })),
    );
    const buried = await tombstones.findAll(manager, [...candidates.keys()]);
    for (const instanceId of buried.keys()) {
      if (inserted.delete(instanceId)) await instances.discard(manager, instanceId);
    }
    const existingIds = [...candidates.keys()].filter((id) => !inserted.has(id) && !buried.has(id));
    const existing = await instances.lockAll(manager, existingIds);
    const writes = new TransitionWrites();
    const outcomes: TransitionOutcome[] = [];
    for (const start of prepared) {
      const { request, definition, result, input } = start;
      const { instanceId } = request;
      const tombstone = buried.get(instanceId);
      if (tombstone) {
        writes.counted.push(() =>
          this.deps.metrics?.startsIgnored.inc({ template: definition.name, reason: 'pruned' }),
        );
        outcomes.push({
          instanceId,
          status: tombstone.status,
          ignored: {
            code: 'already-started',
            message: `instance ${tombstone.status} on ${tombstone.finishedAt.toISOString()} and was pruned; it is not started again`,
          },
        });
      } else if (candidates.get(instanceId) === start && inserted.has(instanceId)) {
        writes.counted.push(() => this.deps.metrics?.started.inc({ template: definition.name }));
        this.record(
          writes,
          definition,
          result.state,
          request.owner,
          input,
          result.commands,
          request.causationId,
          request.traceparent,
        );
        outcomes.push({ instanceId, status: result.state.status });
      } else {
        writes.counted.push(() =>
          this.deps.metrics?.startsIgnored.inc({ template: definition.name, reason: 'already-started' }),
        );
        const status = inserted.has(instanceId)
          ? candidates.get(instanceId)?.result.state.status
          : existing.get(instanceId)?.state.status;
        outcomes.push({
          instanceId,
          status: status ?? result.state.status,
          ignored: { code: 'already-started', message: 'instance already exists' },
        });
      }
    }
    await this.flush(manager, writes);
    return outcomes;
  }

  /**
   * Applies an input to an instance. The instance row is locked first, before any of its task or timer rows
   * (the one lock order of ADR 0005); `admit` runs once the lock is held, to claim the row the input comes
   * from (a due timer, an overdue task), and a `false` from it leaves the instance untouched.
   */
  async apply(
    manager: EntityManager,
    instanceId: string,
    input: WorkflowInput,
    causationId?: string,
    admit?: (manager: EntityManager) => Promise<boolean>,
  ): Promise<TransitionOutcome> {
    const { instances, tombstones } = this.deps.repositories;
    const stored = await instances.lock(manager, instanceId);
    if (!stored) {
      // A replay of a pruned instance's commands finds it finished, like before it was pruned.
      const tombstone = await tombstones.find(manager, instanceId);
      if (!tombstone)
        throw new WorkflowRuntimeError('unknown-instance', `no workflow instance '${instanceId}'`);
      return {
        instanceId,
        status: tombstone.status,
        ignored: { code: 'terminal', message: `instance ${tombstone.status} and was pruned` },
      };
    }
    if (admit && !(await admit(manager))) {
      return {
        instanceId,
        status: stored.state.status,
        ignored: { code: 'stale', message: `${input.type} is no longer due` },
      };
    }
    const writes = new TransitionWrites();
    const outcome = await this.transitionLocked(manager, writes, stored, { instanceId, input, causationId });
    await this.flush(manager, writes);
    return outcome.outcome;
  }

  /**
   * Applies many inputs in the caller's transaction (a group commit): every instance named is locked first,
   * all in one statement and in id order, then the inputs are applied in the order given (several for one
   * instance, one after the other on its state), and everything they write goes in one statement, with the
   * task worker's turn (`worker`: the attempts these results finish, the slots to claim). Throws when any input
   * cannot be applied (an unknown instance, a definition not resolvable): the caller rolls the transaction back
   * and applies them one by one.
   */
  async applyAll(
    manager: EntityManager,
    inputs: readonly InstanceInput[],
    worker?: WorkerTurn,
  ): Promise<AppliedGroup> {
    const locked = await this.deps.repositories.instances.lockAll(manager, instanceIdsOf(inputs));
    const { outcomes, writes } = await this.transitionAll(manager, locked, inputs);
    const { claimed, attemptsLeftQueued } = await this.flush(manager, writes, worker);
    return { outcomes, claimed, attemptsLeftQueued };
  }

  /**
   * Applies a task worker's group without a transaction of its own when this process committed the current
   * state of each of its instances (ADR 0026): the engine runs on the kept states, and one autocommitted
   * statement locks the instances in id order, checks that each still has the kept `seq`, and writes all or
   * nothing. Undefined when it could not — an instance not kept, a transition that arms or cancels a timer (a
   * statement of its own), another writer moved an instance on — and the caller applies the group with
   * `applyAll` in a transaction instead. `manager` must be outside any transaction.
   */
  async applyAllKept(
    manager: EntityManager,
    inputs: readonly InstanceInput[],
    worker: WorkerTurn,
  ): Promise<AppliedGroup | undefined> {
    const kept = this.deps.repositories.instances.kept(instanceIdsOf(inputs));
    if (!kept) return undefined;
    const expected = new Map([...kept].map(([instanceId, { state }]) => [instanceId, state.seq]));
    const { outcomes, writes } = await this.transitionAll(manager, kept, inputs);
    if (writes.timers.length > 0) return undefined;
    const { written, claimed, attemptsLeftQueued } = await this.flush(manager, writes, worker, expected);
    return written ? { outcomes, claimed, attemptsLeftQueued } : undefined;
  }

  /** Runs the engine on each input in the order given, on the instances' states (several for one, in turn). */
  private async transitionAll(
    manager: EntityManager,
    instances: Map<string, StoredInstance>,
    inputs: readonly InstanceInput[],
  ): Promise<{ outcomes: TransitionOutcome[]; writes: TransitionWrites }> {
    const writes = new TransitionWrites();
    const outcomes: TransitionOutcome[] = [];
    for (const item of inputs) {
      const stored = instances.get(item.instanceId);
      if (!stored) {
        throw new WorkflowRuntimeError('unknown-instance', `no workflow instance '${item.instanceId}'`);
      }
      const { outcome, state } = await this.transitionLocked(manager, writes, stored, item);
      instances.set(item.instanceId, { state, owner: stored.owner });
      outcomes.push(outcome);
    }
    return { outcomes, writes };
  }

  /** Runs the engine on a locked instance and gathers what the transition writes. */
  private async transitionLocked(
    manager: EntityManager,
    writes: TransitionWrites,
    stored: StoredInstance,
    { instanceId, input, causationId, traceparent }: InstanceInput,
  ): Promise<{ outcome: TransitionOutcome; state: WorkflowInstanceState }> {
    const definition = await this.deps.registry.resolve(
      manager,
      stored.state.workflow.name,
      stored.state.workflow.version,
    );
    const result = await transition(definition, stored.state, input, this.deps.now());
    if (result.ignored) {
      return {
        outcome: { instanceId, status: stored.state.status, ignored: result.ignored },
        state: stored.state,
      };
    }
    writes.checkpoints.set(instanceId, result.state);
    this.record(
      writes,
      definition,
      result.state,
      stored.owner,
      input,
      result.commands,
      causationId,
      traceparent,
    );
    return { outcome: { instanceId, status: result.state.status }, state: result.state };
  }

  /**
   * Writes what the transitions gathered — checkpoints, queued attempts, the log, what finished instances leave
   * behind (a finished instance waits for nothing: leftover timers and attempts can never matter again), the
   * events for the outbox, and the worker's turn — in one statement; answers the attempts it claimed.
   */
  private async flush(
    manager: EntityManager,
    writes: TransitionWrites,
    worker?: WorkerTurn,
    expected?: ReadonlyMap<string, number>,
  ): Promise<CheckpointResult> {
    const { outbox, topics } = this.deps;
    const { timers } = this.deps.repositories;
    for (const { instanceId, command } of writes.timers) {
      if (command.type === 'scheduleTimer') await timers.schedule(manager, instanceId, command);
      else await timers.cancel(manager, instanceId, command);
    }
    const events = outbox.insert([
      ...outbox.records(topics.workflowEvents, writes.events),
      ...outbox.records(topics.approvals, writes.approvals),
    ]);
    const result = await this.deps.repositories.checkpoints.write(manager, {
      states: [...writes.checkpoints.values()],
      tasks: writes.tasks,
      log: writes.log,
      finished: [...writes.finished],
      outbox: events,
      ...(worker ? { worker } : {}),
      ...(expected ? { expected } : {}),
      committed: writes.counted,
    });
    if (!result.written) return result;
    if (events.rows > 0) outbox.written(manager);
    return result;
  }

  private record(
    writes: TransitionWrites,
    definition: WorkflowDefinition,
    state: WorkflowInstanceState,
    owner: InstanceOwner,
    input: WorkflowInput,
    commands: readonly EngineCommand[],
    causationId: string | undefined,
    traceparent?: string,
  ): void {
    const events: Array<CloudEvent<WorkflowEvent>> = [];
    const approvals = writes.approvals;
    const envelope = (index: number, type: string) => ({
      id: `${state.instanceId}/${state.seq}/${index}`,
      source: this.deps.source,
      type,
      time: this.deps.now().toISOString(),
      subject: owner.caseId,
      tenant: owner.tenant,
      correlationid: owner.correlationId,
      idempotencykey: `${state.instanceId}/${state.seq}/${index}`,
      ...(causationId ? { causationid: causationId } : {}),
      ...(traceparent ? { traceparent } : {}),
    });
    const workflowEvent = (
      index: number,
      transitionName: string,
      detail: Record<string, unknown>,
      stepId?: string,
    ) =>
      buildEvent(this.deps.topics.workflowEvents, {
        ...envelope(index, 'keel.workflow.transition'),
        data: {
          instanceId: state.instanceId,
          template: definition.name,
          templateVersion: definition.version,
          sequence: state.seq,
          transition: transitionName,
          status: state.status,
          detail,
          ...(stepId ? { stepId } : {}),
        },
      });

    for (const [index, command] of commands.entries()) {
      switch (command.type) {
        case 'executeTask':
        case 'executeCompensation':
          writes.tasks.push({
            instanceId: state.instanceId,
            command,
            ...(traceparent ? { traceparent } : {}),
          });
          if (command.type === 'executeCompensation')
            writes.counted.push(() => this.deps.metrics?.compensations.inc({ template: definition.name }));
          else if (command.attempt > 1)
            writes.counted.push(() => this.deps.metrics?.retries.inc({ template: definition.name }));
          break;
        case 'scheduleTimer':
        case 'cancelTimer':
          writes.timers.push({ instanceId: state.instanceId, command });
          break;
        case 'requestApproval':
          approvals.push(
            buildEvent(this.deps.topics.approvals, {
              ...envelope(index, 'keel.approval.requested'),
              data: {
                status: 'requested',
                approvalId: `${state.instanceId}/${command.stepId}/${command.run}`,
                instanceId: state.instanceId,
                stepId: command.stepId,
                run: command.run,
                title: command.title,
                approverRole: command.approverRole,
                dueAt: command.dueAt,
              },
            }),
          );
          break;
        case 'requestDecision':
          events.push(
            workflowEvent(
              index,
              'agent.decisionRequested',
              {
                run: command.run,
                question: command.question,
                options: command.options ?? null,
                context: command.context,
              },
              command.stepId,
            ),
          );
          break;
        case 'emitEvent':
          events.push(workflowEvent(index, command.event, command.detail, command.stepId));
          break;
        case 'complete':
          writes.counted.push(() =>
            this.deps.metrics?.finished.inc({ template: definition.name, status: command.status }),
          );
          break;
      }
    }
    writes.log.push({ state, input, events: events.map((event) => event.data) });
    writes.events.push(...events);
    if (isTerminal(state.status)) writes.finished.add(state.instanceId);
  }
}

/** The instances a group's inputs are for, each once. */
function instanceIdsOf(inputs: readonly InstanceInput[]): string[] {
  return [...new Set(inputs.map(({ instanceId }) => instanceId))];
}
