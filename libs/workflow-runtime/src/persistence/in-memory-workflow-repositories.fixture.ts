import type { CloudEvent, TopicDefinition } from '@keel/contracts';
import { activeTraceparent } from '@keel/tracing';
import type { CancelTimerCommand, ScheduleTimerCommand, WorkflowInstanceState } from '@keel/workflow-engine';
import type { OutboxInsert, OutgoingRecord } from '@keel/messaging';
import type { EntityManager } from 'typeorm';
import type {
  CheckpointRepository,
  CheckpointResult,
  CheckpointWrites,
  ClaimedTask,
  DefinitionRepository,
  DueSchedule,
  DueWork,
  DueWorkRepository,
  FinishedTask,
  InstanceFilter,
  InstanceOwner,
  InstanceRepository,
  InstanceSummary,
  InstanceTombstone,
  NewInstance,
  QueuedTask,
  ScheduleRepository,
  StoredDefinition,
  StoredInstance,
  TaskCommand,
  TaskRepository,
  TimerRepository,
  TombstoneRepository,
  Transactions,
  TransitionEntry,
  TransitionRecord,
  TransitionRepository,
  WorkflowRepositories,
} from './workflow-repositories';
import { checkpointClaims } from './workflow-repositories';

/**
 * The workflow repositories in memory, for unit tests of what orchestrates them (executor, worker, poller,
 * API). They keep the rows' rules (a new attempt supersedes queued older ones, a fired timer fires once, a
 * claim takes only queued attempts) on one clock the test moves, and log every call in order, so a test can
 * check which repository was called first. They do not roll back: a test of a failing transaction checks
 * what was called, not what was kept.
 */
export class InMemoryWorkflowRepositories implements WorkflowRepositories {
  /** `<repository>.<method>(<instance ids, comma-separated>)`, in call order. */
  readonly calls: string[] = [];
  nowMs = Date.parse('2026-12-01T10:00:00Z');

  readonly instanceRows = new Map<string, InstanceRow>();
  readonly transitionRows: Array<TransitionEntry & { instanceId: string }> = [];
  readonly tombstoneRows = new Map<string, InstanceTombstone>();
  readonly taskRows: TaskRow[] = [];
  readonly timerRows = new Map<string, TimerRow>();
  readonly scheduleRows = new Map<string, DueSchedule>();
  readonly definitionRows = new Map<string, { name: string; version: number; definition: unknown }>();
  /** What `instances.kept` answers: the states a test says this process committed (`keepCommitted`). */
  readonly keptRows = new Map<string, StoredInstance>();

  readonly instances = new FakeInstances(this);
  readonly transitions = new FakeTransitions(this);
  readonly tombstones: TombstoneRepository = new FakeTombstones(this);
  readonly tasks = new FakeTasks(this);
  readonly timers = new FakeTimers(this);
  readonly checkpoints: CheckpointRepository = new FakeCheckpoints(this);
  readonly dueWork: DueWorkRepository = new FakeDueWork(this);
  readonly schedules: ScheduleRepository = new FakeSchedules(this);
  readonly definitions: DefinitionRepository = new FakeDefinitions(this);

  now(): Date {
    return new Date(this.nowMs);
  }

  /** As if this process had just committed the instance's current state. */
  keepCommitted(instanceId: string): void {
    const row = this.instanceRows.get(instanceId);
    if (row) this.keptRows.set(instanceId, { state: copy(row.state), owner: row.owner });
  }

  log(call: string): void {
    this.calls.push(call);
  }
}

/** Runs work at once on a stand-in manager (the fakes ignore it), counting transactions. */
export class InMemoryTransactions implements Transactions {
  readonly outside = { outside: true } as unknown as EntityManager;
  opened = 0;

  run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    this.opened++;
    return work({ transaction: this.opened } as unknown as EntityManager);
  }
}

/** Keeps what the executor puts in the outbox, by topic name, as it inserts it (nothing rolls back here). */
export class InMemoryOutbox {
  readonly events: Array<{ topic: string; event: CloudEvent }> = [];
  private readonly eventOf = new WeakMap<OutgoingRecord, CloudEvent>();

  enqueue<T extends TopicDefinition>(
    _manager: EntityManager,
    topic: T,
    events: readonly CloudEvent[],
  ): Promise<void> {
    this.insert(this.records(topic, events));
    return Promise.resolve();
  }

  records<T extends TopicDefinition>(topic: T, events: readonly CloudEvent[]): OutgoingRecord[] {
    return events.map((event) => {
      const record = { topic: topic.name, key: event.subject ?? '', value: Buffer.alloc(0), headers: {} };
      this.eventOf.set(record, event);
      return record;
    });
  }

  insert(records: readonly OutgoingRecord[]): OutboxInsert {
    for (const record of records) {
      const event = this.eventOf.get(record);
      if (event) this.events.push({ topic: record.topic, event });
    }
    return { rows: records.length, statement: () => '', parameters: [] };
  }

  written(): void {
    // The relay's wake-up: nothing publishes here.
  }
}

interface InstanceRow {
  state: WorkflowInstanceState;
  owner: InstanceOwner;
  release: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface TaskRow {
  id: string;
  instanceId: string;
  kind: 'task' | 'compensation';
  stepId: string;
  run: number;
  attempt: number;
  idempotencyKey: string;
  call: ClaimedTask['call'];
  timeoutMs: number;
  heartbeatTimeoutMs: number | null;
  traceparent: string | null;
  scheduleDeadlineMs: number | null;
  claimedAtMs: number | null;
  leaseUntilMs: number | null;
  status: 'pending' | 'running' | 'done' | 'superseded' | 'abandoned' | 'timedOut';
}

interface TimerRow {
  instanceId: string;
  timerId: string;
  dueAtMs: number;
  status: 'scheduled' | 'fired' | 'cancelled';
}

const copy = <T>(value: T): T => structuredClone(value);

/** The one-statement write as its parts, logged in the order the parts take effect. */
class FakeCheckpoints implements CheckpointRepository {
  constructor(private readonly db: InMemoryWorkflowRepositories) {}

  async write(manager: EntityManager, writes: CheckpointWrites): Promise<CheckpointResult> {
    const { worker, expected } = writes;
    if (expected) {
      this.db.log(`checkpoints.expect(${[...expected.keys()].join(',')})`);
      const moved = [...expected].some(([id, seq]) => this.db.instanceRows.get(id)?.state.seq !== seq);
      if (moved) return { written: false, claimed: [], attemptsLeftQueued: false };
    }
    const claims = checkpointClaims(writes);
    await this.db.instances.update(manager, writes.states);
    if (worker) this.db.tasks.finish(worker.finished);
    const claimedAtOnce = this.db.tasks.enqueue(
      writes.tasks,
      claims.claimedAtOnce,
      worker?.leaseGraceMs ?? 0,
    );
    await this.db.transitions.append(manager, writes.log);
    await this.db.timers.cancelAll(manager, writes.finished);
    await this.db.tasks.abandonQueued(manager, writes.finished);
    const older =
      claims.older > 0
        ? this.db.tasks.claimOlder(claims.older, worker?.leaseGraceMs ?? 0, claims.touched)
        : [];
    // The fakes do not roll back, so what a checkpoint counts is counted as it is written.
    for (const run of writes.committed ?? []) run();
    return {
      written: true,
      claimed: [...claimedAtOnce, ...older],
      attemptsLeftQueued: claims.leftQueued > 0,
    };
  }
}

class FakeInstances implements InstanceRepository {
  constructor(private readonly db: InMemoryWorkflowRepositories) {}

  lock(_manager: EntityManager, instanceId: string): Promise<StoredInstance | undefined> {
    this.db.log(`instances.lock(${instanceId})`);
    const row = this.db.instanceRows.get(instanceId);
    return Promise.resolve(row && { state: copy(row.state), owner: row.owner });
  }

  kept(instanceIds: readonly string[]): Map<string, StoredInstance> | undefined {
    this.db.log(`instances.kept(${instanceIds.join(',')})`);
    const kept = new Map<string, StoredInstance>();
    for (const id of instanceIds) {
      const stored = this.db.keptRows.get(id);
      if (!stored) return undefined;
      kept.set(id, { state: copy(stored.state), owner: stored.owner });
    }
    return kept;
  }

  lockAll(_manager: EntityManager, instanceIds: readonly string[]): Promise<Map<string, StoredInstance>> {
    if (instanceIds.length === 0) return Promise.resolve(new Map<string, StoredInstance>());
    const ids = [...instanceIds].sort();
    this.db.log(`instances.lock(${ids.join(',')})`);
    const locked = new Map<string, StoredInstance>();
    for (const id of ids) {
      const row = this.db.instanceRows.get(id);
      if (row) locked.set(id, { state: copy(row.state), owner: row.owner });
    }
    return Promise.resolve(locked);
  }

  insertAll(_manager: EntityManager, instances: readonly NewInstance[]): Promise<Set<string>> {
    if (instances.length === 0) return Promise.resolve(new Set());
    this.db.log(`instances.insert(${instances.map(({ state }) => state.instanceId).join(',')})`);
    const inserted = new Set<string>();
    const now = this.db.now();
    for (const { state, owner, release } of instances) {
      if (this.db.instanceRows.has(state.instanceId)) continue;
      this.db.instanceRows.set(state.instanceId, {
        state: copy(state),
        owner,
        release: release ?? null,
        createdAt: now,
        updatedAt: now,
      });
      inserted.add(state.instanceId);
    }
    return Promise.resolve(inserted);
  }

  discard(_manager: EntityManager, instanceId: string): Promise<void> {
    this.db.log(`instances.discard(${instanceId})`);
    this.db.instanceRows.delete(instanceId);
    return Promise.resolve();
  }

  update(_manager: EntityManager, states: readonly WorkflowInstanceState[]): Promise<void> {
    if (states.length === 0) return Promise.resolve();
    this.db.log(`instances.update(${states.map((state) => state.instanceId).join(',')})`);
    for (const state of states) {
      const row = this.db.instanceRows.get(state.instanceId);
      if (row) Object.assign(row, { state: copy(state), updatedAt: this.db.now() });
    }
    return Promise.resolve();
  }

  find(
    _manager: EntityManager,
    instanceId: string,
  ): Promise<(InstanceSummary & { state: unknown }) | undefined> {
    const row = this.db.instanceRows.get(instanceId);
    return Promise.resolve(row && { ...summary(row), state: copy(row.state) });
  }

  exists(_manager: EntityManager, instanceId: string): Promise<boolean> {
    return Promise.resolve(this.db.instanceRows.has(instanceId));
  }

  list(_manager: EntityManager, filter: InstanceFilter): Promise<InstanceSummary[]> {
    return Promise.resolve(
      [...this.db.instanceRows.values()]
        .filter((row) => row.owner.tenant === filter.tenant)
        .filter((row) => filter.status === undefined || row.state.status === filter.status)
        .filter((row) => filter.workflow === undefined || row.state.workflow.name === filter.workflow)
        .reverse()
        .slice(0, filter.limit)
        .map(summary),
    );
  }

  countActive(): Promise<Array<{ template: string; count: number }>> {
    const counts = new Map<string, number>();
    for (const row of this.db.instanceRows.values())
      if (row.state.endedAt === undefined)
        counts.set(row.state.workflow.name, (counts.get(row.state.workflow.name) ?? 0) + 1);
    return Promise.resolve([...counts].map(([template, count]) => ({ template, count })));
  }

  countWaitingApprovals(): Promise<number> {
    return Promise.resolve(
      [...this.db.instanceRows.values()]
        .filter((row) => row.state.endedAt === undefined)
        .reduce((sum, row) => sum + Object.keys(row.state.approvals).length, 0),
    );
  }
}

function summary(row: InstanceRow): InstanceSummary {
  return {
    instanceId: row.state.instanceId,
    workflow: { name: row.state.workflow.name, version: row.state.workflow.version },
    status: row.state.status,
    caseId: row.owner.caseId,
    tenant: row.owner.tenant,
    seq: row.state.seq,
    release: row.release,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    finishedAt: row.state.endedAt === undefined ? null : new Date(row.state.endedAt),
  };
}

class FakeTransitions implements TransitionRepository {
  constructor(private readonly db: InMemoryWorkflowRepositories) {}

  append(_manager: EntityManager, entries: readonly TransitionRecord[]): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    this.db.log(`transitions.append(${entries.map(({ state }) => state.instanceId).join(',')})`);
    for (const { state, input, events } of entries) {
      this.db.transitionRows.push({
        instanceId: state.instanceId,
        seq: state.seq,
        input: copy(input),
        status: state.status,
        events: copy([...events]),
        appliedAt: this.db.now(),
      });
    }
    return Promise.resolve();
  }

  history(_manager: EntityManager, instanceId: string): Promise<TransitionEntry[]> {
    return Promise.resolve(
      this.db.transitionRows
        .filter((row) => row.instanceId === instanceId)
        .map(({ instanceId: _, ...entry }) => entry),
    );
  }
}

class FakeTombstones implements TombstoneRepository {
  constructor(private readonly db: InMemoryWorkflowRepositories) {}

  find(_manager: EntityManager, instanceId: string): Promise<InstanceTombstone | undefined> {
    this.db.log(`tombstones.find(${instanceId})`);
    return Promise.resolve(this.db.tombstoneRows.get(instanceId));
  }

  findAll(_manager: EntityManager, instanceIds: readonly string[]): Promise<Map<string, InstanceTombstone>> {
    if (instanceIds.length === 0) return Promise.resolve(new Map<string, InstanceTombstone>());
    this.db.log(`tombstones.find(${instanceIds.join(',')})`);
    const found = new Map<string, InstanceTombstone>();
    for (const id of instanceIds) {
      const tombstone = this.db.tombstoneRows.get(id);
      if (tombstone) found.set(id, tombstone);
    }
    return Promise.resolve(found);
  }

  buryFinished(_manager: EntityManager, retentionMs: number, limit: number): Promise<number> {
    const cutoff = this.db.nowMs - retentionMs;
    const buried = [...this.db.instanceRows.values()]
      .filter((row) => row.state.endedAt !== undefined && Date.parse(row.state.endedAt) < cutoff)
      .slice(0, limit);
    for (const row of buried) {
      this.db.instanceRows.delete(row.state.instanceId);
      this.db.tombstoneRows.set(row.state.instanceId, {
        status: row.state.status,
        finishedAt: new Date(row.state.endedAt ?? 0),
      });
    }
    return Promise.resolve(buried.length);
  }

  forget(): Promise<number> {
    return Promise.resolve(0);
  }
}

class FakeTasks implements TaskRepository {
  private nextId = 1;

  constructor(private readonly db: InMemoryWorkflowRepositories) {}

  /** Queues the attempts; those `claimedAtOnce` marks are inserted running and returned. */
  enqueue(
    queued: readonly QueuedTask[],
    claimedAtOnce: readonly boolean[],
    leaseGraceMs: number,
  ): ClaimedTask[] {
    if (queued.length === 0) return [];
    this.db.log(`tasks.enqueue(${queued.map(({ instanceId }) => instanceId).join(',')})`);
    return queued.flatMap(({ instanceId, command, traceparent }, index) => {
      const row = this.enqueueOne(instanceId, command, traceparent);
      return row && claimedAtOnce[index] ? this.claimRow(row, leaseGraceMs) : [];
    });
  }

  private enqueueOne(instanceId: string, command: TaskCommand, traceparent?: string): TaskRow | undefined {
    const kind = command.type === 'executeTask' ? 'task' : 'compensation';
    for (const row of this.db.taskRows) {
      const older = row.run < command.run || (row.run === command.run && row.attempt < command.attempt);
      if (
        row.instanceId === instanceId &&
        row.kind === kind &&
        row.stepId === command.stepId &&
        row.status === 'pending' &&
        older
      )
        row.status = 'superseded';
    }
    const exists = this.db.taskRows.some(
      (row) =>
        row.instanceId === instanceId &&
        row.kind === kind &&
        row.stepId === command.stepId &&
        row.run === command.run &&
        row.attempt === command.attempt,
    );
    if (exists) return undefined;
    const { startToCloseMs, scheduleToStartMs, heartbeatTimeoutMs } = command.timeouts;
    const row: TaskRow = {
      id: String(this.nextId++),
      instanceId,
      kind,
      stepId: command.stepId,
      run: command.run,
      attempt: command.attempt,
      idempotencyKey: command.idempotencyKey,
      call: command.call,
      timeoutMs: startToCloseMs,
      heartbeatTimeoutMs: heartbeatTimeoutMs ?? null,
      traceparent: traceparent ?? activeTraceparent() ?? null,
      scheduleDeadlineMs: scheduleToStartMs === undefined ? null : this.db.nowMs + scheduleToStartMs,
      claimedAtMs: null,
      leaseUntilMs: null,
      status: 'pending',
    };
    this.db.taskRows.push(row);
    return row;
  }

  abandonQueued(_manager: EntityManager, instanceIds: readonly string[]): Promise<void> {
    if (instanceIds.length === 0) return Promise.resolve();
    this.db.log(`tasks.abandonQueued(${instanceIds.join(',')})`);
    for (const row of this.db.taskRows)
      if (instanceIds.includes(row.instanceId) && row.status === 'pending') row.status = 'abandoned';
    return Promise.resolve();
  }

  claim(_manager: EntityManager, limit: number, leaseGraceMs: number): Promise<ClaimedTask[]> {
    return Promise.resolve(limit > 0 ? this.claimOlder(limit, leaseGraceMs, new Set()) : []);
  }

  /** Claims up to `limit` queued attempts, oldest first, of instances not `excluded`. */
  claimOlder(limit: number, leaseGraceMs: number, excluded: ReadonlySet<string>): ClaimedTask[] {
    this.db.log('tasks.claim()');
    const now = this.db.nowMs;
    return this.db.taskRows
      .filter(
        (row) =>
          row.status === 'pending' &&
          !excluded.has(row.instanceId) &&
          (row.scheduleDeadlineMs === null || row.scheduleDeadlineMs > now),
      )
      .slice(0, limit)
      .flatMap((row) => this.claimRow(row, leaseGraceMs));
  }

  private claimRow(row: TaskRow, leaseGraceMs: number): ClaimedTask[] {
    const instance = this.db.instanceRows.get(row.instanceId);
    if (!instance) return [];
    const now = this.db.nowMs;
    row.status = 'running';
    row.claimedAtMs = now;
    row.leaseUntilMs = now + Math.min(row.timeoutMs, row.heartbeatTimeoutMs ?? row.timeoutMs) + leaseGraceMs;
    return [
      {
        id: row.id,
        instanceId: row.instanceId,
        kind: row.kind,
        stepId: row.stepId,
        run: row.run,
        attempt: row.attempt,
        idempotencyKey: row.idempotencyKey,
        call: row.call,
        timeoutMs: row.timeoutMs,
        heartbeatTimeoutMs: row.heartbeatTimeoutMs,
        traceparent: row.traceparent,
        workflow: instance.state.workflow.name,
        caseId: instance.owner.caseId,
        tenant: instance.owner.tenant,
        correlationId: instance.owner.correlationId,
      },
    ];
  }

  /** Marks the attempts done; after a success, supersedes the attempts of its run still queued. */
  finish(finished: readonly FinishedTask[]): void {
    if (finished.length === 0) return;
    this.db.log(`tasks.finish(${finished.map(({ task }) => task.instanceId).join(',')})`);
    for (const { task, succeeded } of finished) {
      for (const row of this.db.taskRows) {
        if (row.id === task.id && row.status === 'running') row.status = 'done';
        else if (
          succeeded &&
          row.instanceId === task.instanceId &&
          row.kind === task.kind &&
          row.stepId === task.stepId &&
          row.run === task.run &&
          row.status === 'pending'
        )
          row.status = 'superseded';
      }
    }
  }

  heartbeat(_manager: EntityManager, taskId: string, leaseGraceMs: number): Promise<void> {
    const row = this.db.taskRows.find((task) => task.id === taskId && task.status === 'running');
    if (!row || row.claimedAtMs === null || row.heartbeatTimeoutMs === null) return Promise.resolve();
    row.leaseUntilMs = Math.min(
      row.claimedAtMs + row.timeoutMs + leaseGraceMs,
      this.db.nowMs + row.heartbeatTimeoutMs + leaseGraceMs,
    );
    return Promise.resolve();
  }

  expire(_manager: EntityManager, instanceId: string, taskId: string): Promise<boolean> {
    this.db.log(`tasks.expire(${instanceId})`);
    const row = this.db.taskRows.find((task) => task.id === taskId && task.instanceId === instanceId);
    if (!row || !isOverdue(row, this.db.nowMs)) return Promise.resolve(false);
    row.status = 'timedOut';
    return Promise.resolve(true);
  }
}

function isOverdue(row: TaskRow, now: number): boolean {
  return (
    (row.status === 'running' && row.leaseUntilMs !== null && row.leaseUntilMs < now) ||
    (row.status === 'pending' && row.scheduleDeadlineMs !== null && row.scheduleDeadlineMs < now)
  );
}

class FakeTimers implements TimerRepository {
  constructor(private readonly db: InMemoryWorkflowRepositories) {}

  schedule(_manager: EntityManager, instanceId: string, command: ScheduleTimerCommand): Promise<void> {
    this.db.log(`timers.schedule(${instanceId})`);
    this.db.timerRows.set(`${instanceId}/${command.timerId}`, {
      instanceId,
      timerId: command.timerId,
      dueAtMs: Date.parse(command.dueAt),
      status: 'scheduled',
    });
    return Promise.resolve();
  }

  cancel(_manager: EntityManager, instanceId: string, command: CancelTimerCommand): Promise<void> {
    this.db.log(`timers.cancel(${instanceId})`);
    const row = this.db.timerRows.get(`${instanceId}/${command.timerId}`);
    if (row?.status === 'scheduled') row.status = 'cancelled';
    return Promise.resolve();
  }

  cancelAll(_manager: EntityManager, instanceIds: readonly string[]): Promise<void> {
    if (instanceIds.length === 0) return Promise.resolve();
    this.db.log(`timers.cancelAll(${instanceIds.join(',')})`);
    for (const row of this.db.timerRows.values())
      if (instanceIds.includes(row.instanceId) && row.status === 'scheduled') row.status = 'cancelled';
    return Promise.resolve();
  }

  fire(_manager: EntityManager, instanceId: string, timerId: string): Promise<boolean> {
    this.db.log(`timers.fire(${instanceId})`);
    const row = this.db.timerRows.get(`${instanceId}/${timerId}`);
    if (row?.status !== 'scheduled') return Promise.resolve(false);
    row.status = 'fired';
    return Promise.resolve(true);
  }
}

class FakeDueWork implements DueWorkRepository {
  constructor(private readonly db: InMemoryWorkflowRepositories) {}

  due(_manager: EntityManager, now: Date, limit: number): Promise<DueWork[]> {
    this.db.log('dueWork.due()');
    const timers = [...this.db.timerRows.values()]
      .filter((row) => row.status === 'scheduled' && row.dueAtMs <= now.getTime())
      .sort((a, b) => a.dueAtMs - b.dueAtMs)
      .slice(0, limit)
      .map((row): DueWork => ({ source: 'timer', instanceId: row.instanceId, timerId: row.timerId }));
    const tasks = this.db.taskRows
      .filter((row) => isOverdue(row, this.db.nowMs))
      .slice(0, limit)
      .map((row): DueWork => ({
        source: 'task',
        instanceId: row.instanceId,
        taskId: row.id,
        kind: row.kind,
        stepId: row.stepId,
        run: row.run,
        attempt: row.attempt,
        timeout:
          row.status === 'pending'
            ? 'scheduleToStart'
            : (row.claimedAtMs ?? 0) + row.timeoutMs <= this.db.nowMs
              ? 'startToClose'
              : 'heartbeat',
      }));
    return Promise.resolve([...timers, ...tasks]);
  }
}

class FakeSchedules implements ScheduleRepository {
  constructor(private readonly db: InMemoryWorkflowRepositories) {}

  arm(_manager: EntityManager, workflow: string, version: number, nextRunAt: Date): Promise<void> {
    const key = `${workflow}@${version}`;
    if (!this.db.scheduleRows.has(key)) this.db.scheduleRows.set(key, { workflow, version, nextRunAt });
    return Promise.resolve();
  }

  lockDue(_manager: EntityManager, now: Date): Promise<DueSchedule | undefined> {
    return Promise.resolve(
      [...this.db.scheduleRows.values()]
        .filter((row) => row.nextRunAt <= now)
        .sort((a, b) => a.nextRunAt.getTime() - b.nextRunAt.getTime())[0],
    );
  }

  advance(
    _manager: EntityManager,
    workflow: string,
    version: number,
    nextRunAt: Date | undefined,
  ): Promise<void> {
    const key = `${workflow}@${version}`;
    if (nextRunAt) this.db.scheduleRows.set(key, { workflow, version, nextRunAt });
    else this.db.scheduleRows.delete(key);
    return Promise.resolve();
  }
}

class FakeDefinitions implements DefinitionRepository {
  constructor(private readonly db: InMemoryWorkflowRepositories) {}

  find(_manager: EntityManager, name: string, version: number): Promise<StoredDefinition | undefined> {
    const row = this.db.definitionRows.get(`${name}@${version}`);
    return Promise.resolve(row && { definition: row.definition });
  }

  newestVersion(_manager: EntityManager, name: string): Promise<number | undefined> {
    this.db.log(`definitions.newestVersion(${name})`);
    const versions = [...this.db.definitionRows.values()]
      .filter((row) => row.name === name)
      .map((row) => row.version);
    return Promise.resolve(versions.length === 0 ? undefined : Math.max(...versions));
  }

  isStored(_manager: EntityManager, name: string): Promise<boolean> {
    return Promise.resolve([...this.db.definitionRows.values()].some((row) => row.name === name));
  }

  all(): Promise<StoredDefinition[]> {
    return Promise.resolve(
      [...this.db.definitionRows.values()].map((row) => ({ definition: row.definition })),
    );
  }

  store(
    _manager: EntityManager,
    name: string,
    version: number,
    _hash: string,
    canonical: string,
  ): Promise<void> {
    const key = `${name}@${version}`;
    if (!this.db.definitionRows.has(key))
      this.db.definitionRows.set(key, { name, version, definition: JSON.parse(canonical) as unknown });
    return Promise.resolve();
  }
}
