import type { InstanceStatus, WorkflowInstanceState } from '@keel/workflow-engine';
import type { EntityManager } from 'typeorm';

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

interface InstanceRow {
  state: WorkflowInstanceState;
  case_id: string;
  tenant: string;
  correlation_id: string;
}

/** Instance checkpoints: one JSON document per instance, written in the transaction of each transition. */
export class InstanceStore {
  /** Loads and locks the instance for this transaction, so transitions of one instance never interleave. */
  async lock(manager: EntityManager, instanceId: string): Promise<StoredInstance | undefined> {
    const rows = await manager.query<InstanceRow[]>(
      `SELECT state, case_id, tenant, correlation_id FROM "workflow"."instances" WHERE id = $1 FOR UPDATE`,
      [instanceId],
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      state: row.state,
      owner: { caseId: row.case_id, tenant: row.tenant, correlationId: row.correlation_id },
    };
  }

  /** Inserts a new instance; false when the id exists already (a redelivered start). */
  async insert(manager: EntityManager, state: WorkflowInstanceState, owner: InstanceOwner): Promise<boolean> {
    const inserted = await manager.query<unknown[]>(
      `INSERT INTO "workflow"."instances"
         (id, workflow_name, workflow_version, status, case_id, tenant, correlation_id, seq, state, finished_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10)
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      [
        state.instanceId,
        state.workflow.name,
        state.workflow.version,
        state.status,
        owner.caseId,
        owner.tenant,
        owner.correlationId,
        state.seq,
        JSON.stringify(state),
        state.endedAt ?? null,
      ],
    );
    return inserted.length > 0;
  }

  /** The tombstone of an instance retention deleted, if there is one. */
  async tombstone(manager: EntityManager, instanceId: string): Promise<InstanceTombstone | undefined> {
    const [row] = await manager.query<InstanceTombstone[]>(
      `SELECT status, finished_at AS "finishedAt" FROM "workflow"."instance_tombstones" WHERE instance_id = $1`,
      [instanceId],
    );
    return row;
  }

  /** Takes back an instance inserted in this transaction (before anything else was written for it). */
  async discard(manager: EntityManager, instanceId: string): Promise<void> {
    await manager.query(`DELETE FROM "workflow"."instances" WHERE id = $1`, [instanceId]);
  }

  async update(manager: EntityManager, state: WorkflowInstanceState): Promise<void> {
    await manager.query(
      `UPDATE "workflow"."instances"
       SET status = $2, seq = $3, state = $4::jsonb, updated_at = now(), finished_at = $5
       WHERE id = $1`,
      [state.instanceId, state.status, state.seq, JSON.stringify(state), state.endedAt ?? null],
    );
  }

  async appendTransition(
    manager: EntityManager,
    state: WorkflowInstanceState,
    input: unknown,
    events: readonly unknown[],
  ): Promise<void> {
    await manager.query(
      `INSERT INTO "workflow"."transitions" (instance_id, seq, input, status, events) VALUES ($1, $2, $3::jsonb, $4, $5::jsonb)`,
      [state.instanceId, state.seq, JSON.stringify(input), state.status, JSON.stringify(events)],
    );
  }
}
