import { outboxCte } from '@keel/messaging';
import { assertSchemaName, integerLiteral } from '@keel/persistence';
import { activeTraceparent } from '@keel/tracing';
import type {
  CancelTimerCommand,
  RenderedConnectorCall,
  ScheduleTimerCommand,
  WorkflowInstanceState,
} from '@keel/workflow-engine';
import type { DataSource, EntityManager, EntitySubscriberInterface, QueryRunner } from 'typeorm';
import type {
  CheckpointRepository,
  CheckpointResult,
  CheckpointWrites,
  ClaimedTask,
  DefinitionRepository,
  DueSchedule,
  DueWork,
  DueWorkRepository,
  InstanceFilter,
  InstanceOwner,
  InstanceRepository,
  InstanceSummary,
  InstanceTombstone,
  NewInstance,
  ScheduleRepository,
  StoredDefinition,
  StoredInstance,
  TaskRepository,
  TimerRepository,
  TombstoneRepository,
  Transactions,
  TransitionEntry,
  TransitionRepository,
  WorkflowRepositories,
} from './workflow-repositories';
import { checkpointClaims } from './workflow-repositories';

/** The tables of the workflow schema, quoted, for a schema name checked once. */
class WorkflowTables {
  readonly instances: string;
  readonly transitions: string;
  readonly tombstones: string;
  readonly tasks: string;
  readonly timers: string;
  readonly schedules: string;
  readonly definitions: string;

  constructor(schema: string) {
    assertSchemaName(schema);
    const table = (name: string) => `"${schema}"."${name}"`;
    this.instances = table('instances');
    this.transitions = table('transitions');
    this.tombstones = table('instance_tombstones');
    this.tasks = table('tasks');
    this.timers = table('timers');
    this.schedules = table('schedules');
    this.definitions = table('definitions');
  }
}

/**
 * The states this process's task worker committed last, by instance, so that locking an instance it moved last
 * reads only its `seq`, not its whole state document: under load the worker locks the same instances step
 * after step. A state is known only once its transaction committed, and is used only while the row's `seq`
 * still matches; any other writer (another replica, an API command, the inbox) moves `seq` on.
 */
class CommittedStates {
  /**
   * By instance, least recently written first: whom it works for (learned when it is locked; it never changes)
   * and, once the worker committed it, its state. One entry each, so an instance's owner and state go together.
   */
  private readonly instances = new Map<
    string,
    { readonly owner: InstanceOwner; readonly state?: WorkflowInstanceState }
  >();

  constructor(private readonly capacity: number) {}

  get(instanceId: string): WorkflowInstanceState | undefined {
    return this.instances.get(instanceId)?.state;
  }

  /** The instance as this process committed it last, when it knows its state. */
  stored(instanceId: string): StoredInstance | undefined {
    const { owner, state } = this.instances.get(instanceId) ?? {};
    return owner && state && { state, owner };
  }

  learnOwner(instanceId: string, owner: InstanceOwner): void {
    if (this.instances.has(instanceId)) return;
    this.instances.set(instanceId, { owner });
    this.evict();
  }

  /** Keeps the states of instances it learned the owner of (the worker locks an instance before it moves it). */
  remember(states: readonly WorkflowInstanceState[]): void {
    for (const state of states) {
      const entry = this.instances.get(state.instanceId);
      // A commit reported after a later one's (two groups at once) brings nothing newer.
      if (!entry || (entry.state?.seq ?? -1) >= state.seq) continue;
      // Re-inserted, so the Map's order is least recently written first.
      this.instances.delete(state.instanceId);
      this.instances.set(state.instanceId, { owner: entry.owner, state });
    }
    this.evict();
  }

  private evict(): void {
    for (const oldest of this.instances.keys()) {
      if (this.instances.size <= this.capacity) break;
      this.instances.delete(oldest);
    }
  }
}

/** What a transaction's checkpoints leave for when it ends. */
interface CheckpointsWritten {
  /** Task attempts were left queued: the worker on the same data source is woken when it commits. */
  tasksQueued: boolean;
  readonly states: WorkflowInstanceState[];
  readonly committedStates: CommittedStates;
  /** `CheckpointWrites.committed` of the transaction's checkpoints, in the order written. */
  readonly committed: Array<() => void>;
}

/** Transactions that wrote checkpoints and have not ended yet (a commit subscriber ends them). */
const checkpointsOf = new WeakMap<QueryRunner, CheckpointsWritten>();

/**
 * The transaction of `queryRunner` ended: once committed, the states its checkpoints wrote are known to this
 * process; answers whether it left task attempts queued (a commit does not need a statement to wake the worker).
 */
export function endCheckpoints(queryRunner: QueryRunner, committed: boolean): boolean {
  const written = checkpointsOf.get(queryRunner);
  if (!written) return false;
  checkpointsOf.delete(queryRunner);
  if (!committed) return false;
  written.committedStates.remember(written.states);
  countCommitted(written.committed);
  return written.tasksQueued;
}

/**
 * Ends the checkpoints of each transaction of a data source as it ends (`endCheckpoints`); `onTasksQueued`
 * when one that committed left task attempts queued. The workflow runtime installs it on its data source.
 */
export function checkpointCommits(onTasksQueued: () => void): EntitySubscriberInterface {
  return {
    afterTransactionCommit: ({ queryRunner }) => {
      // A savepoint ending leaves the transaction open; only its end counts.
      if (!queryRunner.isTransactionActive && endCheckpoints(queryRunner, true)) onTasksQueued();
    },
    afterTransactionRollback: ({ queryRunner }) => {
      if (!queryRunner.isTransactionActive) endCheckpoints(queryRunner, false);
    },
  };
}

/** A count that throws (a label the metrics refuse) must not make a committed transaction look failed. */
function countCommitted(counts: ReadonlyArray<() => void>): void {
  for (const count of counts) {
    try {
      count();
    } catch {
      // The transaction committed: losing one count is the lesser harm.
    }
  }
}

/**
 * `states` become known, and `committed` runs, when `manager`'s transaction commits (outside a transaction, the
 * statement that wrote them committed as it returned: now); `tasksQueued` wakes the worker at that commit.
 */
function rememberOnCommit(
  manager: EntityManager,
  committedStates: CommittedStates,
  states: readonly WorkflowInstanceState[],
  tasksQueued: boolean,
  committed: ReadonlyArray<() => void> = [],
): void {
  const runner = manager.queryRunner;
  if (!runner?.isTransactionActive) {
    committedStates.remember(states);
    countCommitted(committed);
    return;
  }
  const written = checkpointsOf.get(runner) ?? {
    tasksQueued: false,
    states: [],
    committedStates,
    committed: [],
  };
  written.states.push(...states);
  written.committed.push(...committed);
  written.tasksQueued ||= tasksQueued;
  checkpointsOf.set(runner, written);
}

/**
 * Instances whose committed state this process keeps: twice the default task concurrency (ADR 0021), which is
 * about the working set of a worker that finishes the instances under way first (ADR 0026).
 */
const committedStatesKept = 256;

export class DataSourceTransactions implements Transactions {
  constructor(private readonly dataSource: DataSource) {}

  run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  get outside(): EntityManager {
    return this.dataSource.manager;
  }
}

/** The workflow service's repositories on Postgres, in `schema`. */
export function postgresWorkflowRepositories(schema: string): WorkflowRepositories {
  const tables = new WorkflowTables(schema);
  const committedStates = new CommittedStates(committedStatesKept);
  return {
    checkpoints: new PostgresCheckpoints(tables, committedStates),
    instances: new PostgresInstances(tables, committedStates),
    transitions: new PostgresTransitions(tables),
    tombstones: new PostgresTombstones(tables),
    tasks: new PostgresTasks(tables),
    timers: new PostgresTimers(tables),
    dueWork: new PostgresDueWork(tables),
    schedules: new PostgresSchedules(tables),
    definitions: new PostgresDefinitions(tables),
  };
}

interface InstanceRow {
  id: string;
  workflow_name: string;
  workflow_version: number;
  status: string;
  case_id: string;
  tenant: string;
  seq: number;
  release_id: string | null;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

function summary(row: InstanceRow): InstanceSummary {
  return {
    instanceId: row.id,
    workflow: { name: row.workflow_name, version: row.workflow_version },
    status: row.status,
    caseId: row.case_id,
    tenant: row.tenant,
    seq: row.seq,
    release: row.release_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
  };
}

class PostgresCheckpoints implements CheckpointRepository {
  constructor(
    private readonly tables: WorkflowTables,
    private readonly committedStates: CommittedStates,
  ) {}

  // Each part is a data-modifying CTE over rows that travel as JSON arrays (one parameter, one parse each).
  // All parts see the rows as they were before the statement, and two parts never update one row (Postgres
  // leaves it undefined which wins): attempts finished are running rows; superseded and abandoned ones are
  // queued rows of this transaction's instances, split by whether the instance finished; the claim of older
  // attempts leaves this transaction's instances out. Attempts it queues for an instance that finished are
  // inserted abandoned, and the ones the worker claims at once are inserted running.
  //
  // With `expected` (transitions run on kept states, outside a transaction) the statement takes the instance
  // locks itself, in id order, and every part is conditional on each instance still having its expected
  // `seq`: the lock waits for any transaction holding the row and then sees its latest version, so either
  // nothing changed the instance since this process committed it, or nothing is written.
  async write(manager: EntityManager, writes: CheckpointWrites): Promise<CheckpointResult> {
    const { states, tasks, log, finished, outbox, worker, expected } = writes;
    const attemptsFinished = worker?.finished ?? [];
    if (
      states.length === 0 &&
      tasks.length === 0 &&
      log.length === 0 &&
      finished.length === 0 &&
      attemptsFinished.length === 0 &&
      (outbox?.rows ?? 0) === 0
    ) {
      rememberOnCommit(manager, this.committedStates, [], false, writes.committed);
      return { written: true, claimed: [], attemptsLeftQueued: false };
    }
    const traceparent = activeTraceparent() ?? null;
    const claims = checkpointClaims(writes);
    const queued = tasks.map(({ instanceId, command, traceparent: continued }, index) => ({
      instance_id: instanceId,
      kind: command.type === 'executeTask' ? 'task' : 'compensation',
      step_id: command.stepId,
      run: command.run,
      attempt: command.attempt,
      idempotency_key: command.idempotencyKey,
      call: command.call,
      timeout_ms: command.timeouts.startToCloseMs,
      heartbeat_timeout_ms: command.timeouts.heartbeatTimeoutMs ?? null,
      schedule_to_start_ms: command.timeouts.scheduleToStartMs ?? null,
      traceparent: continued ?? traceparent,
      claim: claims.claimedAtOnce[index] ?? false,
    }));
    // Every part but the lock is conditional on `seq_holds.ok`; without `expected` it is simply true.
    const seqHolds = expected
      ? `expected AS (SELECT * FROM unnest($9::text[], $10::int[]) AS e(id, seq)),
       locked AS (
         SELECT i.id, i.seq FROM ${this.tables.instances} i
         WHERE i.id IN (SELECT id FROM expected) ORDER BY i.id FOR UPDATE),
       seq_holds AS (
         SELECT count(*) = (SELECT count(*) FROM expected) AS ok FROM locked JOIN expected USING (id, seq)),`
      : 'seq_holds AS (SELECT true AS ok),';
    const ok = '(SELECT ok FROM seq_holds)';
    const parameters: unknown[] = [
      JSON.stringify(
        states.map((state) => ({
          id: state.instanceId,
          status: state.status,
          seq: state.seq,
          state,
          finished_at: state.endedAt ?? null,
        })),
      ),
      JSON.stringify(queued),
      JSON.stringify(
        log.map(({ state, input, events }) => ({
          instance_id: state.instanceId,
          seq: state.seq,
          input,
          status: state.status,
          events,
        })),
      ),
      finished,
      JSON.stringify(
        attemptsFinished.map(({ task, succeeded }) => ({
          id: task.id,
          succeeded,
          instance_id: task.instanceId,
          kind: task.kind,
          step_id: task.stepId,
          run: task.run,
        })),
      ),
      claims.older,
      worker?.leaseGraceMs ?? 0,
      [...claims.touched],
      ...(expected ? [[...expected.keys()], [...expected.values()]] : []),
    ];
    // The outbox rows' parameters come last: their count grows with the rows.
    const outboxed = outboxCte(outbox, parameters.length + 1, ok);
    const rows = await manager.query<Array<Partial<ClaimedRow> & { ok: boolean }>>(
      `WITH ${seqHolds}
       checkpoints AS (
         UPDATE ${this.tables.instances} AS i
         SET status = u.status, seq = u.seq, state = u.state, updated_at = now(), finished_at = u.finished_at
         FROM jsonb_to_recordset($1::jsonb)
           AS u(id text, status text, seq int, state jsonb, finished_at timestamptz)
         WHERE i.id = u.id AND ${ok} RETURNING 1),
       queued AS (
         SELECT * FROM jsonb_to_recordset($2::jsonb) AS q(instance_id text, kind text, step_id text, run int,
           attempt int, idempotency_key text, call jsonb, timeout_ms int, heartbeat_timeout_ms int,
           schedule_to_start_ms int, traceparent text, claim boolean)
         WHERE ${ok}),
       attempts_finished AS (
         SELECT * FROM jsonb_to_recordset($5::jsonb)
           AS f(id bigint, succeeded boolean, instance_id text, kind text, step_id text, run int)
         WHERE ${ok}),
       done AS (
         UPDATE ${this.tables.tasks} AS t SET status = 'done', finished_at = now()
         FROM attempts_finished f WHERE t.id = f.id AND t.status = 'running' RETURNING 1),
       superseded AS (
         -- Re-running a queued attempt would only be deduplicated downstream: a new attempt of its step retires
         -- the older ones (a first attempt of a first run has none), a success the rest of its run.
         UPDATE ${this.tables.tasks} AS t SET status = 'superseded', finished_at = now()
         FROM (SELECT instance_id, kind, step_id, run, attempt, false AS whole_run FROM queued
               WHERE attempt > 1 OR run > 1
               UNION ALL
               SELECT instance_id, kind, step_id, run, 0, true FROM attempts_finished WHERE succeeded) s
         WHERE s.instance_id <> ALL($4::text[])
           AND t.instance_id = s.instance_id AND t.kind = s.kind AND t.step_id = s.step_id
           AND t.status = 'pending'
           AND CASE WHEN s.whole_run THEN t.run = s.run
                    ELSE t.run < s.run OR (t.run = s.run AND t.attempt < s.attempt) END
         RETURNING 1),
       inserted AS (
         INSERT INTO ${this.tables.tasks} (instance_id, kind, step_id, run, attempt, idempotency_key, call,
           timeout_ms, heartbeat_timeout_ms, schedule_deadline, traceparent, status, finished_at, claimed_at,
           lease_until)
         SELECT instance_id, kind, step_id, run, attempt, idempotency_key, call, timeout_ms, heartbeat_timeout_ms,
                now() + schedule_to_start_ms * interval '1 millisecond', traceparent,
                CASE WHEN instance_id = ANY($4::text[]) THEN 'abandoned' WHEN claim THEN 'running'
                     ELSE 'pending' END,
                CASE WHEN instance_id = ANY($4::text[]) THEN now() END,
                CASE WHEN claim THEN now() END,
                CASE WHEN claim THEN ${leaseFromNow('$7')} END
         FROM queued
         ON CONFLICT (instance_id, kind, step_id, run, attempt) DO NOTHING
         RETURNING ${claimedColumns}, status),
       logged AS (
         INSERT INTO ${this.tables.transitions} (instance_id, seq, input, status, events)
         SELECT instance_id, seq, input, status, events
         FROM jsonb_to_recordset($3::jsonb) AS l(instance_id text, seq int, input jsonb, status text, events jsonb)
         WHERE ${ok}
         RETURNING 1),
       abandoned AS (
         UPDATE ${this.tables.tasks} SET status = 'abandoned', finished_at = now()
         WHERE instance_id = ANY($4::text[]) AND status = 'pending' AND ${ok} RETURNING 1),
       timers_cancelled AS (
         UPDATE ${this.tables.timers} SET status = 'cancelled'
         WHERE instance_id = ANY($4::text[]) AND status = 'scheduled' AND ${ok} RETURNING 1),
       claimed AS (${claimStatement(this.tables, '$6', '$7', `t.instance_id <> ALL($8::text[]) AND ${ok}`)})
       ${outboxed}
       SELECT seq_holds.ok, c.* FROM seq_holds LEFT JOIN (${withInstanceParts(
         this.tables,
         `SELECT ${claimedColumns} FROM inserted WHERE status = 'running' UNION ALL SELECT * FROM claimed`,
       )}) c ON true`,
      [...parameters, ...(outbox?.parameters ?? [])],
    );
    if (rows[0]?.ok !== true) return { written: false, claimed: [], attemptsLeftQueued: false };
    const claimed = rows.flatMap((row) =>
      row.id === undefined || row.id === null ? [] : [claimedTask(row as ClaimedRow)],
    );
    // Attempts left queued wake the worker at commit; the ones it claimed here it starts itself. Only the task
    // worker's checkpoints are kept: its transactions take no savepoints, whereas a consumer's retry path rolls
    // records back to savepoints no commit event reports, which would leave a state kept that never committed.
    rememberOnCommit(
      manager,
      this.committedStates,
      worker ? states : [],
      claims.leftQueued > 0,
      writes.committed,
    );
    return { written: true, claimed, attemptsLeftQueued: claims.leftQueued > 0 };
  }
}

class PostgresInstances implements InstanceRepository {
  constructor(
    private readonly tables: WorkflowTables,
    private readonly committedStates: CommittedStates,
  ) {}

  async lock(manager: EntityManager, instanceId: string): Promise<StoredInstance | undefined> {
    const [row] = await manager.query<
      Array<{ state: WorkflowInstanceState; case_id: string; tenant: string; correlation_id: string }>
    >(
      `SELECT state, case_id, tenant, correlation_id FROM ${this.tables.instances} WHERE id = $1 FOR UPDATE`,
      [instanceId],
    );
    if (!row) return undefined;
    return {
      state: row.state,
      owner: { caseId: row.case_id, tenant: row.tenant, correlationId: row.correlation_id },
    };
  }

  // The state document travels only for an instance whose committed state this process does not know (the
  // engine copies the state it is given, so the kept one is never changed).
  async lockAll(
    manager: EntityManager,
    instanceIds: readonly string[],
  ): Promise<Map<string, StoredInstance>> {
    if (instanceIds.length === 0) return new Map();
    // Taken before the statement: what another group commits meanwhile (and evicts) must not change them.
    const known = new Map(
      instanceIds.flatMap((id) => {
        const state = this.committedStates.get(id);
        return state ? [[id, state] as const] : [];
      }),
    );
    // LockRows sits above the sort: rows are locked in id order.
    const rows = await manager.query<
      Array<{
        id: string;
        state: WorkflowInstanceState | null;
        case_id: string;
        tenant: string;
        correlation_id: string;
      }>
    >(
      `SELECT i.id, CASE WHEN i.seq = k.seq THEN NULL ELSE i.state END AS state,
              i.case_id, i.tenant, i.correlation_id
       FROM ${this.tables.instances} i
         LEFT JOIN unnest($2::text[], $3::int[]) AS k(id, seq) ON k.id = i.id
       WHERE i.id = ANY($1::text[]) ORDER BY i.id FOR UPDATE OF i`,
      [instanceIds, [...known.keys()], [...known.values()].map(({ seq }) => seq)],
    );
    return new Map(
      rows.flatMap((row) => {
        const state = row.state ?? known.get(row.id);
        if (!state) return [];
        const owner = { caseId: row.case_id, tenant: row.tenant, correlationId: row.correlation_id };
        this.committedStates.learnOwner(row.id, owner);
        return [[row.id, { state, owner }] as const];
      }),
    );
  }

  kept(instanceIds: readonly string[]): Map<string, StoredInstance> | undefined {
    const kept = new Map<string, StoredInstance>();
    for (const id of instanceIds) {
      const stored = this.committedStates.stored(id);
      if (!stored) return undefined;
      kept.set(id, stored);
    }
    return kept;
  }

  // One parameter for all rows (`jsonb_to_recordset`): a run of starts costs one statement however long.
  async insertAll(manager: EntityManager, instances: readonly NewInstance[]): Promise<Set<string>> {
    if (instances.length === 0) return new Set();
    const inserted = await manager.query<Array<{ id: string }>>(
      `INSERT INTO ${this.tables.instances}
         (id, workflow_name, workflow_version, status, case_id, tenant, correlation_id, seq, state, finished_at,
          release_id)
       SELECT id, workflow_name, workflow_version, status, case_id, tenant, correlation_id, seq, state,
              finished_at, release_id
       FROM jsonb_to_recordset($1::jsonb) AS n(id text, workflow_name text, workflow_version int, status text,
         case_id text, tenant text, correlation_id text, seq int, state jsonb, finished_at timestamptz,
         release_id text)
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      [
        JSON.stringify(
          instances.map(({ state, owner, release }) => ({
            id: state.instanceId,
            workflow_name: state.workflow.name,
            workflow_version: state.workflow.version,
            status: state.status,
            case_id: owner.caseId,
            tenant: owner.tenant,
            correlation_id: owner.correlationId,
            seq: state.seq,
            state,
            finished_at: state.endedAt ?? null,
            release_id: release ?? null,
          })),
        ),
      ],
    );
    return new Set(inserted.map(({ id }) => id));
  }

  async discard(manager: EntityManager, instanceId: string): Promise<void> {
    await manager.query(`DELETE FROM ${this.tables.instances} WHERE id = $1`, [instanceId]);
  }

  async find(
    manager: EntityManager,
    instanceId: string,
  ): Promise<(InstanceSummary & { state: unknown }) | undefined> {
    const [row] = await manager.query<Array<InstanceRow & { state: unknown }>>(
      `SELECT * FROM ${this.tables.instances} WHERE id = $1`,
      [instanceId],
    );
    return row && { ...summary(row), state: row.state };
  }

  async exists(manager: EntityManager, instanceId: string): Promise<boolean> {
    const rows = await manager.query<unknown[]>(`SELECT 1 FROM ${this.tables.instances} WHERE id = $1`, [
      instanceId,
    ]);
    return rows.length > 0;
  }

  // One text per combination of filters, not `($n IS NULL OR …)`: the service runs generic plans (ADR 0035),
  // which cannot leave out a filter that is not given.
  async list(manager: EntityManager, filter: InstanceFilter): Promise<InstanceSummary[]> {
    const values: unknown[] = [filter.tenant, filter.limit];
    const conditions = ['tenant = $1'];
    for (const [column, value] of [
      ['status', filter.status],
      ['workflow_name', filter.workflow],
    ] as const) {
      if (value === undefined) continue;
      values.push(value);
      conditions.push(`${column} = $${values.length}`);
    }
    const rows = await manager.query<InstanceRow[]>(
      `SELECT * FROM ${this.tables.instances} WHERE ${conditions.join(' AND ')}
       ORDER BY created_at DESC LIMIT $2`,
      values,
    );
    return rows.map(summary);
  }

  countActive(manager: EntityManager): Promise<Array<{ template: string; count: number }>> {
    return manager.query<Array<{ template: string; count: number }>>(
      `SELECT workflow_name AS template, count(*)::int AS count FROM ${this.tables.instances}
       WHERE finished_at IS NULL GROUP BY workflow_name`,
    );
  }

  async countWaitingApprovals(manager: EntityManager): Promise<number> {
    const [row] = await manager.query<Array<{ n: number }>>(
      `SELECT coalesce(sum((SELECT count(*) FROM jsonb_object_keys(state -> 'approvals'))), 0)::int AS n
       FROM ${this.tables.instances} WHERE finished_at IS NULL`,
    );
    return row?.n ?? 0;
  }
}

class PostgresTransitions implements TransitionRepository {
  constructor(private readonly tables: WorkflowTables) {}

  history(manager: EntityManager, instanceId: string): Promise<TransitionEntry[]> {
    return manager.query<TransitionEntry[]>(
      `SELECT seq, input, status, events, applied_at AS "appliedAt" FROM ${this.tables.transitions}
       WHERE instance_id = $1 ORDER BY seq`,
      [instanceId],
    );
  }
}

class PostgresTombstones implements TombstoneRepository {
  constructor(private readonly tables: WorkflowTables) {}

  async find(manager: EntityManager, instanceId: string): Promise<InstanceTombstone | undefined> {
    const [row] = await manager.query<InstanceTombstone[]>(
      `SELECT status, finished_at AS "finishedAt" FROM ${this.tables.tombstones} WHERE instance_id = $1`,
      [instanceId],
    );
    return row;
  }

  async findAll(
    manager: EntityManager,
    instanceIds: readonly string[],
  ): Promise<Map<string, InstanceTombstone>> {
    if (instanceIds.length === 0) return new Map();
    const rows = await manager.query<Array<InstanceTombstone & { instanceId: string }>>(
      `SELECT instance_id AS "instanceId", status, finished_at AS "finishedAt" FROM ${this.tables.tombstones}
       WHERE instance_id = ANY($1::text[])`,
      [instanceIds],
    );
    return new Map(rows.map(({ instanceId, ...tombstone }) => [instanceId, tombstone]));
  }

  // The age and the batch size are in the text, not parameters: the service runs generic plans (ADR 0035), and
  // one made without their values would scan the whole table where the index finds no old row.
  async buryFinished(manager: EntityManager, retentionMs: number, limit: number): Promise<number> {
    const [pruned] = await manager.query<Array<{ instances: number }>>(
      `WITH pruned AS (
         DELETE FROM ${this.tables.instances} WHERE id IN (
           SELECT id FROM ${this.tables.instances}
           WHERE finished_at < now() - interval '${integerLiteral(retentionMs, 'retention')} milliseconds'
           LIMIT ${integerLiteral(limit, 'batch size')})
         RETURNING id, workflow_name, workflow_version, status, finished_at),
       tombstones AS (
         INSERT INTO ${this.tables.tombstones} (instance_id, workflow_name, workflow_version, status, finished_at)
         SELECT id, workflow_name, workflow_version, status, finished_at FROM pruned
         ON CONFLICT (instance_id) DO NOTHING)
       SELECT count(*)::int AS instances FROM pruned`,
    );
    return pruned?.instances ?? 0;
  }

  async forget(manager: EntityManager, retentionMs: number, limit: number): Promise<number> {
    const [, deleted] = await manager.query<[unknown[], number]>(
      `DELETE FROM ${this.tables.tombstones} WHERE instance_id IN (
         SELECT instance_id FROM ${this.tables.tombstones}
         WHERE pruned_at < now() - interval '${integerLiteral(retentionMs, 'tombstone retention')} milliseconds'
         LIMIT ${integerLiteral(limit, 'batch size')})`,
    );
    return deleted;
  }
}

interface ClaimedRow {
  id: string;
  instance_id: string;
  kind: 'task' | 'compensation';
  step_id: string;
  run: number;
  attempt: number;
  idempotency_key: string;
  call: RenderedConnectorCall;
  timeout_ms: number;
  heartbeat_timeout_ms: number | null;
  traceparent: string | null;
  workflow_name: string;
  case_id: string;
  tenant: string;
  correlation_id: string;
}

/** The columns of a claimed attempt's row (a `ClaimedRow` without its instance's part). */
const claimedColumns = `id, instance_id, kind, step_id, run, attempt, idempotency_key, call, timeout_ms,
                        heartbeat_timeout_ms, traceparent`;

/** A claimed attempt's lease: its start-to-close or heartbeat timeout, plus the grace, from now. */
function leaseFromNow(leaseGraceMs: string): string {
  return `now() + ((least(timeout_ms, coalesce(heartbeat_timeout_ms, timeout_ms)) + ${leaseGraceMs})
                   * interval '1 millisecond')`;
}

/** Claimed attempts' rows (`claimedColumns`) with their instance's part: whole `ClaimedRow`s. */
function withInstanceParts(tables: WorkflowTables, claimed: string): string {
  return `SELECT c.*, i.workflow_name, i.case_id, i.tenant, i.correlation_id
          FROM (${claimed}) c JOIN ${tables.instances} i ON i.id = c.instance_id`;
}

/**
 * Marks up to `limit` queued attempts (oldest first, within their schedule-to-start, matching `where`) running
 * with a lease, skipping rows other transactions hold; returns the claimed rows without their instance's part.
 */
function claimStatement(tables: WorkflowTables, limit: string, leaseGraceMs: string, where: string): string {
  return `UPDATE ${tables.tasks}
         SET status = 'running', claimed_at = now(), lease_until = ${leaseFromNow(leaseGraceMs)}
         WHERE id IN (
           SELECT t.id FROM ${tables.tasks} t
           WHERE t.status = 'pending' AND (t.schedule_deadline IS NULL OR t.schedule_deadline > now()) AND ${where}
           ORDER BY t.id LIMIT ${limit} FOR UPDATE OF t SKIP LOCKED)
         RETURNING ${claimedColumns}`;
}

function claimedTask(row: ClaimedRow): ClaimedTask {
  return {
    id: row.id,
    instanceId: row.instance_id,
    kind: row.kind,
    stepId: row.step_id,
    run: row.run,
    attempt: row.attempt,
    idempotencyKey: row.idempotency_key,
    call: row.call,
    timeoutMs: row.timeout_ms,
    heartbeatTimeoutMs: row.heartbeat_timeout_ms,
    traceparent: row.traceparent,
    workflow: row.workflow_name,
    caseId: row.case_id,
    tenant: row.tenant,
    correlationId: row.correlation_id,
  };
}

class PostgresTasks implements TaskRepository {
  constructor(private readonly tables: WorkflowTables) {}

  async claim(manager: EntityManager, limit: number, leaseGraceMs: number): Promise<ClaimedTask[]> {
    if (limit <= 0) return [];
    const rows = await manager.query<ClaimedRow[]>(
      `WITH claimed AS (${claimStatement(this.tables, '$1', '$2', 'true')})
       ${withInstanceParts(this.tables, 'SELECT * FROM claimed')}`,
      [limit, leaseGraceMs],
    );
    return rows.map(claimedTask);
  }

  async heartbeat(manager: EntityManager, taskId: string, leaseGraceMs: number): Promise<void> {
    await manager.query(
      `UPDATE ${this.tables.tasks}
       SET lease_until = least(claimed_at + (timeout_ms + $2) * interval '1 millisecond',
                               now() + (heartbeat_timeout_ms + $2) * interval '1 millisecond')
       WHERE id = $1 AND status = 'running'`,
      [taskId, leaseGraceMs],
    );
  }

  async expire(manager: EntityManager, instanceId: string, taskId: string): Promise<boolean> {
    const expired = await manager.query<unknown[]>(
      `WITH expired AS (
         UPDATE ${this.tables.tasks} SET status = 'timedOut', finished_at = now()
         WHERE instance_id = $1 AND id = $2::bigint
           AND ((status = 'running' AND lease_until < now()) OR (status = 'pending' AND schedule_deadline < now()))
         RETURNING 1)
       SELECT * FROM expired`,
      [instanceId, taskId],
    );
    return expired.length > 0;
  }
}

class PostgresTimers implements TimerRepository {
  constructor(private readonly tables: WorkflowTables) {}

  async schedule(manager: EntityManager, instanceId: string, command: ScheduleTimerCommand): Promise<void> {
    await manager.query(
      `INSERT INTO ${this.tables.timers} (instance_id, timer_id, step_id, purpose, due_at)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (instance_id, timer_id) DO UPDATE SET due_at = EXCLUDED.due_at, status = 'scheduled'`,
      [instanceId, command.timerId, command.stepId, command.purpose, command.dueAt],
    );
  }

  async cancel(manager: EntityManager, instanceId: string, command: CancelTimerCommand): Promise<void> {
    await manager.query(
      `UPDATE ${this.tables.timers} SET status = 'cancelled' WHERE instance_id = $1 AND timer_id = $2 AND status = 'scheduled'`,
      [instanceId, command.timerId],
    );
  }

  async fire(manager: EntityManager, instanceId: string, timerId: string): Promise<boolean> {
    const fired = await manager.query<unknown[]>(
      `WITH fired AS (
         UPDATE ${this.tables.timers} SET status = 'fired'
         WHERE instance_id = $1 AND timer_id = $2 AND status = 'scheduled' RETURNING 1)
       SELECT * FROM fired`,
      [instanceId, timerId],
    );
    return fired.length > 0;
  }
}

interface DueRow {
  source: 'timer' | 'task';
  instance_id: string;
  ref: string;
  kind: 'task' | 'compensation' | null;
  step_id: string | null;
  run: number | null;
  attempt: number | null;
  timeout: 'scheduleToStart' | 'startToClose' | 'heartbeat' | null;
}

class PostgresDueWork implements DueWorkRepository {
  constructor(private readonly tables: WorkflowTables) {}

  // Timer due times are on the application clock, task leases and deadlines on the database's.
  async due(manager: EntityManager, now: Date, limit: number): Promise<DueWork[]> {
    const rows = await manager.query<DueRow[]>(
      `(SELECT 'timer' AS source, instance_id, timer_id AS ref, NULL AS kind, NULL AS step_id, NULL::int AS run,
               NULL::int AS attempt, NULL AS timeout
        FROM ${this.tables.timers} WHERE status = 'scheduled' AND due_at <= $1 ORDER BY due_at LIMIT $2)
       UNION ALL
       (SELECT 'task', instance_id, id::text, kind, step_id, run, attempt,
               CASE WHEN status = 'pending' THEN 'scheduleToStart'
                    WHEN claimed_at + timeout_ms * interval '1 millisecond' <= now() THEN 'startToClose'
                    ELSE 'heartbeat' END
        FROM ${this.tables.tasks}
        WHERE (status = 'running' AND lease_until < now()) OR (status = 'pending' AND schedule_deadline < now())
        ORDER BY id LIMIT $2)`,
      [now, limit],
    );
    return rows.map((row): DueWork =>
      row.source === 'timer'
        ? { source: 'timer', instanceId: row.instance_id, timerId: row.ref }
        : {
            source: 'task',
            instanceId: row.instance_id,
            taskId: row.ref,
            kind: row.kind ?? 'task',
            stepId: row.step_id ?? '',
            run: row.run ?? 0,
            attempt: row.attempt ?? 0,
            timeout: row.timeout ?? 'startToClose',
          },
    );
  }
}

class PostgresSchedules implements ScheduleRepository {
  constructor(private readonly tables: WorkflowTables) {}

  async arm(manager: EntityManager, workflow: string, version: number, nextRunAt: Date): Promise<void> {
    await manager.query(
      `INSERT INTO ${this.tables.schedules} (workflow_name, workflow_version, next_run_at) VALUES ($1, $2, $3)
       ON CONFLICT (workflow_name, workflow_version) DO NOTHING`,
      [workflow, version, nextRunAt],
    );
  }

  async lockDue(manager: EntityManager, now: Date): Promise<DueSchedule | undefined> {
    const [row] = await manager.query<
      Array<{ workflow_name: string; workflow_version: number; next_run_at: Date }>
    >(
      `SELECT workflow_name, workflow_version, next_run_at FROM ${this.tables.schedules}
       WHERE next_run_at <= $1 ORDER BY next_run_at LIMIT 1 FOR UPDATE SKIP LOCKED`,
      [now],
    );
    return (
      row && {
        workflow: row.workflow_name,
        version: row.workflow_version,
        nextRunAt: new Date(row.next_run_at),
      }
    );
  }

  async advance(
    manager: EntityManager,
    workflow: string,
    version: number,
    nextRunAt: Date | undefined,
  ): Promise<void> {
    if (nextRunAt) {
      await manager.query(
        `UPDATE ${this.tables.schedules} SET next_run_at = $3 WHERE workflow_name = $1 AND workflow_version = $2`,
        [workflow, version, nextRunAt],
      );
    } else {
      await manager.query(
        `DELETE FROM ${this.tables.schedules} WHERE workflow_name = $1 AND workflow_version = $2`,
        [workflow, version],
      );
    }
  }
}

class PostgresDefinitions implements DefinitionRepository {
  constructor(private readonly tables: WorkflowTables) {}

  async find(manager: EntityManager, name: string, version: number): Promise<StoredDefinition | undefined> {
    const [row] = await manager.query<StoredDefinition[]>(
      `SELECT definition FROM ${this.tables.definitions} WHERE name = $1 AND version = $2`,
      [name, version],
    );
    return row;
  }

  async newestVersion(manager: EntityManager, name: string): Promise<number | undefined> {
    const [row] = await manager.query<Array<{ version: number | null }>>(
      `SELECT max(version) AS version FROM ${this.tables.definitions} WHERE name = $1`,
      [name],
    );
    return row?.version ?? undefined;
  }

  async isStored(manager: EntityManager, name: string): Promise<boolean> {
    const rows = await manager.query<unknown[]>(
      `SELECT 1 FROM ${this.tables.definitions} WHERE name = $1 LIMIT 1`,
      [name],
    );
    return rows.length > 0;
  }

  all(manager: EntityManager): Promise<StoredDefinition[]> {
    return manager.query<StoredDefinition[]>(`SELECT definition FROM ${this.tables.definitions}`);
  }

  async store(
    manager: EntityManager,
    name: string,
    version: number,
    hash: string,
    canonical: string,
  ): Promise<void> {
    await manager.query(
      `INSERT INTO ${this.tables.definitions} (name, version, content_hash, definition)
       VALUES ($1, $2, $3, $4::jsonb) ON CONFLICT (name, version) DO NOTHING`,
      [name, version, hash, canonical],
    );
  }
}
