import type {
  CancelTimerCommand,
  EngineCommand,
  InstanceStatus,
  RenderedConnectorCall,
  ScheduleTimerCommand,
  WorkflowInstanceState,
} from '@keel/workflow-engine';
import type { OutboxInsert } from '@keel/messaging';
import type { EntityManager } from 'typeorm';

/**
 * The ports the workflow service keeps its state behind, one per table of its schema; every statement on
 * the schema is in their Postgres implementation (`postgres-workflow-repositories.ts`), so the executor,
 * workers and API only orchestrate. Each call takes the transaction it runs in (`manager`; a read outside
 * one takes `Transactions.outside`), so what one transition writes commits together. In-memory fakes
 * (`in-memory-workflow-repositories.fixture.ts`) stand in for them in unit tests.
 */

/** Who an instance works for: carried on every event it emits. */
export interface InstanceOwner {
  readonly caseId: string;
  readonly tenant: string;
  readonly correlationId: string;
}

/** What retention left of a finished instance: recognised so a replayed start does not run it again. */
export interface InstanceTombstone {
  readonly status: InstanceStatus;
  readonly finishedAt: Date;
}

export interface StoredInstance {
  readonly state: WorkflowInstanceState;
  readonly owner: InstanceOwner;
}

/** An instance as the API shows it. */
export interface InstanceSummary {
  readonly instanceId: string;
  readonly workflow: { readonly name: string; readonly version: number };
  readonly status: string;
  readonly caseId: string;
  /** Whose instance it is: the API shows it to that tenant's callers only. */
  readonly tenant: string;
  readonly seq: number;
  /** The governance release the instance started under; null before any release was in force. */
  readonly release: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly finishedAt: Date | null;
}

export interface InstanceFilter {
  /** Only this tenant's instances (the API always sets the caller's). */
  readonly tenant: string;
  readonly status?: string;
  readonly workflow?: string;
  readonly limit: number;
}

/** Runs work in one transaction, and gives the manager for reads outside any. */
export interface Transactions {
  run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T>;
  /** Not in a transaction: each statement commits (or reads) on its own. */
  readonly outside: EntityManager;
}

/** An instance to insert: its first state, whom it works for, the release it started under. */
export interface NewInstance {
  readonly state: WorkflowInstanceState;
  readonly owner: InstanceOwner;
  readonly release?: string;
}

/** Instance checkpoints: one JSON document per instance, written in the transaction of each transition. */
export interface InstanceRepository {
  /** Loads and locks the instance for this transaction, so transitions of one instance never interleave. */
  lock(manager: EntityManager, instanceId: string): Promise<StoredInstance | undefined>;
  /**
   * Loads and locks several instances in one statement, in id order (so two transactions locking overlapping
   * sets never wait on each other in a cycle); ids not found are absent from the map.
   */
  lockAll(manager: EntityManager, instanceIds: readonly string[]): Promise<Map<string, StoredInstance>>;
  /**
   * The state this process's task worker committed last of each instance (a checkpoint with a `WorkerTurn`),
   * without a statement; undefined unless it knows every one of them (a checkpoint that expects their `seq`
   * then writes them without a lock of its own).
   */
  kept(instanceIds: readonly string[]): Map<string, StoredInstance> | undefined;
  /**
   * Inserts new instances in one statement, each naming the governance release it starts under (if one is
   * in force); returns the ids inserted — an id that exists already (a redelivered start) is left out. The
   * ids must be distinct.
   */
  insertAll(manager: EntityManager, instances: readonly NewInstance[]): Promise<Set<string>>;
  /** Takes back an instance inserted in this transaction (before anything else was written for it). */
  discard(manager: EntityManager, instanceId: string): Promise<void>;
  find(
    manager: EntityManager,
    instanceId: string,
  ): Promise<(InstanceSummary & { readonly state: unknown }) | undefined>;
  exists(manager: EntityManager, instanceId: string): Promise<boolean>;
  /** Newest first. */
  list(manager: EntityManager, filter: InstanceFilter): Promise<InstanceSummary[]>;
  /** Instances not yet finished, by template. */
  countActive(manager: EntityManager): Promise<Array<{ template: string; count: number }>>;
  /** Approval steps of unfinished instances waiting for a human. */
  countWaitingApprovals(manager: EntityManager): Promise<number>;
}

export interface TransitionEntry {
  readonly seq: number;
  readonly input: unknown;
  readonly status: string;
  readonly events: unknown[];
  readonly appliedAt: Date;
}

/** One applied input as the log records it: the state it led to, the input, the events it emitted. */
export interface TransitionRecord {
  readonly state: WorkflowInstanceState;
  readonly input: unknown;
  readonly events: readonly unknown[];
}

/** The transition log: one entry per applied input (appended by `CheckpointRepository.write`). */
export interface TransitionRepository {
  /** Oldest first. */
  history(manager: EntityManager, instanceId: string): Promise<TransitionEntry[]>;
}

/** Retention: finished instances deleted past it, each leaving a tombstone that outlives it for a while. */
export interface TombstoneRepository {
  find(manager: EntityManager, instanceId: string): Promise<InstanceTombstone | undefined>;
  /** The tombstones of those of `instanceIds` that have one, in one statement. */
  findAll(manager: EntityManager, instanceIds: readonly string[]): Promise<Map<string, InstanceTombstone>>;
  /**
   * Deletes up to `limit` instances finished more than `retentionMs` ago (their transitions, tasks and timers
   * by cascade), leaving a tombstone for each in the same statement; returns how many.
   */
  buryFinished(manager: EntityManager, retentionMs: number, limit: number): Promise<number>;
  /** Deletes up to `limit` tombstones older than `retentionMs`; returns how many. */
  forget(manager: EntityManager, retentionMs: number, limit: number): Promise<number>;
}

export type TaskCommand = Extract<EngineCommand, { type: 'executeTask' | 'executeCompensation' }>;

/** An attempt to queue for an instance. */
export interface QueuedTask {
  readonly instanceId: string;
  readonly command: TaskCommand;
  /** The trace the attempt continues; the active span's when absent. */
  readonly traceparent?: string;
}

/** A task attempt a worker claimed, with what its connector call needs of the instance. */
export interface ClaimedTask {
  readonly id: string;
  readonly instanceId: string;
  readonly kind: 'task' | 'compensation';
  readonly stepId: string;
  readonly run: number;
  readonly attempt: number;
  readonly idempotencyKey: string;
  readonly call: RenderedConnectorCall;
  /** Start-to-close. */
  readonly timeoutMs: number;
  readonly heartbeatTimeoutMs: number | null;
  /** The trace context the attempt was queued under, continued by the worker; null with tracing off. */
  readonly traceparent: string | null;
  readonly workflow: string;
  readonly caseId: string;
  readonly tenant: string;
  readonly correlationId: string;
}

export interface FinishedTask {
  readonly task: ClaimedTask;
  readonly succeeded: boolean;
}

/** The task queue (ADR 0005): attempts queued by transitions, claimed by workers, timed out by the poller. */
export interface TaskRepository {
  /**
   * Marks up to `limit` queued attempts running with a lease (their start-to-close or heartbeat timeout plus
   * `leaseGraceMs`), oldest first, skipping rows other transactions hold: it never waits on an instance's
   * transaction. (A worker's results are marked done, and the next attempts claimed, by the checkpoint.)
   */
  claim(manager: EntityManager, limit: number, leaseGraceMs: number): Promise<ClaimedTask[]>;
  /** Renews a running attempt's lease, never past its start-to-close. */
  heartbeat(manager: EntityManager, taskId: string, leaseGraceMs: number): Promise<void>;
  /** Marks the attempt timed out if it still is overdue; false when something else won. */
  expire(manager: EntityManager, instanceId: string, taskId: string): Promise<boolean>;
}

/** Durable timers: armed and cancelled by transitions, fired by the poller. */
export interface TimerRepository {
  schedule(manager: EntityManager, instanceId: string, command: ScheduleTimerCommand): Promise<void>;
  cancel(manager: EntityManager, instanceId: string, command: CancelTimerCommand): Promise<void>;
  /** Marks the timer fired if it still is scheduled; false when something else won. */
  fire(manager: EntityManager, instanceId: string, timerId: string): Promise<boolean>;
}

/** Something due: a timer, or a task attempt that broke its schedule-to-start, start-to-close or heartbeat. */
export type DueWork =
  | { readonly source: 'timer'; readonly instanceId: string; readonly timerId: string }
  | {
      readonly source: 'task';
      readonly instanceId: string;
      readonly taskId: string;
      readonly kind: 'task' | 'compensation';
      readonly stepId: string;
      readonly run: number;
      readonly attempt: number;
      readonly timeout: 'scheduleToStart' | 'startToClose' | 'heartbeat';
    };

/** What the timer poller looks for, timers and tasks in one statement. */
export interface DueWorkRepository {
  /** Up to `limit` due timers (due on the application clock, `now`) and up to `limit` overdue attempts. */
  due(manager: EntityManager, now: Date, limit: number): Promise<DueWork[]>;
}

export interface DueSchedule {
  readonly workflow: string;
  readonly version: number;
  readonly nextRunAt: Date;
}

/** The next run of every definition with a cron schedule. */
export interface ScheduleRepository {
  /** Records the next run unless one is recorded already. */
  arm(manager: EntityManager, workflow: string, version: number, nextRunAt: Date): Promise<void>;
  /** Locks the earliest schedule due by `now`, skipping ones another scheduler holds. */
  lockDue(manager: EntityManager, now: Date): Promise<DueSchedule | undefined>;
  /** Moves the schedule on, or drops it when `nextRunAt` is undefined (no run left). */
  advance(
    manager: EntityManager,
    workflow: string,
    version: number,
    nextRunAt: Date | undefined,
  ): Promise<void>;
}

export interface StoredDefinition {
  readonly definition: unknown;
}

/** The shared truth of every replica: each workflow version any of them published. */
export interface DefinitionRepository {
  find(manager: EntityManager, name: string, version: number): Promise<StoredDefinition | undefined>;
  /** The highest version stored under `name`; undefined when none is. */
  newestVersion(manager: EntityManager, name: string): Promise<number | undefined>;
  isStored(manager: EntityManager, name: string): Promise<boolean>;
  all(manager: EntityManager): Promise<StoredDefinition[]>;
  /** Stores a version unless it is stored already (versions are immutable). */
  store(
    manager: EntityManager,
    name: string,
    version: number,
    hash: string,
    canonical: string,
  ): Promise<void>;
}

/**
 * A task worker's part of a checkpoint: the attempts whose results the transaction applied, and the slots it
 * has free for more.
 */
export interface WorkerTurn {
  /** Marked done; after a success, the attempts of its run still queued are superseded. */
  readonly finished: readonly FinishedTask[];
  /**
   * Attempts to claim: first the ones this checkpoint queues (an instance's next step starts without waiting
   * for a claim of its own, and the instances under way finish before new ones start), then the oldest queued
   * of other instances.
   */
  readonly claim: number;
  readonly leaseGraceMs: number;
}

/** What the transitions of one transaction write to the workflow schema, and the events they emit. */
export interface CheckpointWrites {
  /** The new state of each instance that moved (locked by this transaction). */
  readonly states: readonly WorkflowInstanceState[];
  /** Attempts queued, each carrying the trace context active now. */
  readonly tasks: readonly QueuedTask[];
  readonly log: readonly TransitionRecord[];
  /** Instances that finished: their scheduled timers are cancelled and their queued attempts abandoned. */
  readonly finished: readonly string[];
  /** The outbox rows of the events the transitions emit. */
  readonly outbox?: OutboxInsert;
  readonly worker?: WorkerTurn;
  /**
   * The `seq` each instance must still have, for transitions run on kept states outside a transaction: the
   * statement then locks the instances itself, in id order, and writes nothing unless every one still has it.
   */
  readonly expected?: ReadonlyMap<string, number>;
  /**
   * Run once the transaction that writes the checkpoint commits (at once when it is written outside one),
   * never when it rolls back: what the transitions count (metrics) counts only what stays.
   */
  readonly committed?: ReadonlyArray<() => void>;
}

/** What a checkpoint did: nothing when an instance no longer had its expected `seq`. */
export interface CheckpointResult {
  readonly written: boolean;
  /** The attempts it claimed for the worker. */
  readonly claimed: ClaimedTask[];
  /** It left attempts queued for a claim to find (a commit wakes the worker; a write outside one cannot). */
  readonly attemptsLeftQueued: boolean;
}

/** How a checkpoint spends the worker's free slots (`WorkerTurn.claim`). */
export interface CheckpointClaims {
  /** Per queued attempt, in order: claimed at once (inserted running) or left queued. */
  readonly claimedAtOnce: readonly boolean[];
  /** Slots left for the oldest queued attempts of other instances. */
  readonly older: number;
  /** Attempts left queued for instances still running: a worker's claim must find them. */
  readonly leftQueued: number;
  /** Every instance whose rows the checkpoint writes: the claim of older attempts leaves them out. */
  readonly touched: ReadonlySet<string>;
}

/**
 * The first `claim` attempts the checkpoint queues for instances still running are claimed at once, in the
 * order they were queued; an instance that finished has its attempts abandoned instead.
 */
export function checkpointClaims(writes: CheckpointWrites): CheckpointClaims {
  const finished = new Set(writes.finished);
  let free = writes.worker?.claim ?? 0;
  let leftQueued = 0;
  const claimedAtOnce = writes.tasks.map(({ instanceId }) => {
    if (finished.has(instanceId)) return false;
    if (free > 0) {
      free--;
      return true;
    }
    leftQueued++;
    return false;
  });
  const touched = new Set([
    ...writes.states.map(({ instanceId }) => instanceId),
    ...writes.tasks.map(({ instanceId }) => instanceId),
    ...(writes.worker?.finished ?? []).map(({ task }) => task.instanceId),
    ...writes.finished,
  ]);
  return { claimedAtOnce, older: free, leftQueued, touched };
}

/**
 * The checkpoint of a transaction's transitions, written across the instance, task, transition and timer
 * tables and the outbox in one statement: under load every round trip waits for a core, so a step costs as few
 * as it can.
 */
export interface CheckpointRepository {
  /**
   * Stores the states, queues the attempts (a new attempt supersedes older ones of its step still queued,
   * never a running one), appends the log, leaves finished instances nothing scheduled or queued, inserts the
   * outbox rows, and takes the worker's turn; answers the attempts it claimed for the worker.
   */
  write(manager: EntityManager, writes: CheckpointWrites): Promise<CheckpointResult>;
}

export interface WorkflowRepositories {
  readonly checkpoints: CheckpointRepository;
  readonly instances: InstanceRepository;
  readonly transitions: TransitionRepository;
  readonly tombstones: TombstoneRepository;
  readonly tasks: TaskRepository;
  readonly timers: TimerRepository;
  readonly dueWork: DueWorkRepository;
  readonly schedules: ScheduleRepository;
  readonly definitions: DefinitionRepository;
}
