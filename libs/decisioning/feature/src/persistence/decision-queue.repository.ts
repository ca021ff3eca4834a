import { type CloudEvent } from '@keel/contracts';
import { type CaseHistoryEntry, type DecisionTrigger } from '@keel/decisioning-domain';
import { assertSchemaName } from '@keel/persistence';
import type { EntityManager, QueryRunner } from 'typeorm';
import { type HistoryRow, type RememberedEvent, historyEntryOf } from './case-memory.repository';

/** What the triggering event's envelope contributes to what the decision emits (its trace too). */
export type TriggerEnvelope = Pick<CloudEvent, 'id' | 'tenant' | 'correlationid' | 'traceparent'>;

/** Transactions that queued triggers and have not ended yet (`DecisionQueueCommits` watches their end). */
const queuedBy = new WeakSet<QueryRunner>();

/** Whether the transaction of `queryRunner` queued a trigger; forgets it (the transaction has ended). */
export function takeQueuedBy(queryRunner: QueryRunner): boolean {
  return queuedBy.delete(queryRunner);
}

/** The envelope fields a queued trigger keeps (not the whole event). */
function envelopeOf(envelope: TriggerEnvelope): TriggerEnvelope {
  return {
    id: envelope.id,
    tenant: envelope.tenant,
    correlationid: envelope.correlationid,
    traceparent: envelope.traceparent,
  };
}

/** A trigger waiting for its decision. */
export interface QueuedTrigger {
  /** One per trigger (`decisionIdOf`): the queue's key and the published record's id. */
  readonly decisionId: string;
  readonly trigger: DecisionTrigger;
  readonly envelope: TriggerEnvelope;
}

/**
 * How many shards the queue is cut into; a case's triggers are all in one (`shardOf`), decided by the one
 * replica holding it. The same in every replica of a schema: changing it needs every replica stopped first.
 */
export const decisionQueueShards = 12;

/** The shard of a case, as SQL over its tenant and case id columns (Postgres's `hashtext`, so one server's). */
function shardOf(tenant: string, caseId: string): string {
  return `mod(hashtext(${tenant} || '/' || ${caseId})::bigint + 2147483648, ${decisionQueueShards})::int`;
}

/** A queued trigger as the worker takes it: its place in the memory and the case history as of that place. */
export interface PendingTrigger extends QueuedTrigger {
  /** The queue shard of its case. */
  readonly shard: number;
  /** A bigint, as Postgres returns it. */
  readonly position: string;
  /** The newest events up to the history limit asked for, oldest first, remembered at or before `position`. */
  readonly history: readonly CaseHistoryEntry[];
  readonly historyLimit: number;
}

/**
 * The decision queue (schema injected): filled in the consumer's transaction, drained by the workers, each of
 * its shards. A worker hears of a new trigger when its transaction commits: in process through the data
 * source's commits (`DecisionQueueCommits`) when this replica decides the trigger's shard, else by `NOTIFY`
 * (delivered only on commit) to every replica deciding shards.
 * `NOTIFY` is avoided where it is not needed: Postgres serialises the commits of every notifying transaction.
 */
export class DecisionQueueRepository {
  readonly channel: string;
  private readonly triggers: string;
  private readonly caseEvents: string;
  private readonly decisions: string;
  private readonly position: string;

  constructor(schema: string) {
    assertSchemaName(schema);
    this.triggers = `"${schema}"."decision_triggers"`;
    this.caseEvents = `"${schema}"."case_events"`;
    this.decisions = `"${schema}"."decisions"`;
    this.position = `"${schema}"."memory_position"`;
    this.channel = `${schema}_decision_triggers`;
  }

  /**
   * Remembers the case events (when given) and queues the triggers of a consumer run, in one statement on the
   * caller's transaction: each trigger (and its case event) takes the next position in the given order, so a
   * trigger's history holds its own event and the run's earlier ones of its case, never a later one. A trigger
   * already queued or already decided (a redelivery past the deduplication window) is not queued again.
   * `decidedHere`: the shards this process decides, whose worker hears the commit itself; a trigger of another
   * shard notifies the others.
   */
  async enqueueAll(
    manager: EntityManager,
    items: ReadonlyArray<{ readonly queued: QueuedTrigger; readonly remember?: RememberedEvent }>,
    { decidedHere = [] }: { readonly decidedHere?: readonly number[] } = {},
  ): Promise<void> {
    if (items.length === 0) return;
    const column = <T>(pick: (item: (typeof items)[number]) => T) => items.map(pick);
    await manager.query(
      `WITH run AS (
         SELECT r.*, nextval('${this.position}') AS position
         FROM (
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                                $6::text[], $7::text[], $8::text[])
             WITH ORDINALITY AS u(decision_id, tenant, case_id, trigger, envelope, event_id, occurred_at, event, ord)
           ORDER BY ord
         ) r
       ),
       remembered AS (
         INSERT INTO ${this.caseEvents} (tenant, case_id, event_id, occurred_at, event, position)
         SELECT tenant, case_id, event_id, occurred_at::timestamptz, event::jsonb, position FROM run
         WHERE event_id IS NOT NULL
         ON CONFLICT (tenant, case_id, event_id) DO NOTHING
       ),
       queued AS (
         INSERT INTO ${this.triggers} (decision_id, position, tenant, case_id, trigger, envelope)
         SELECT decision_id, position, tenant, case_id, trigger::json, envelope::json FROM run
         WHERE NOT EXISTS (SELECT 1 FROM ${this.decisions} d WHERE d.decision_id = run.decision_id)
         ON CONFLICT (decision_id) DO NOTHING
       )
       SELECT pg_notify($10, '')
       WHERE EXISTS (SELECT 1 FROM run WHERE ${shardOf('run.tenant', 'run.case_id')} <> ALL($9::int[]))`,
      [
        column(({ queued }) => queued.decisionId),
        column(({ queued }) => queued.trigger.tenant),
        column(({ queued }) => queued.trigger.caseId),
        column(({ queued }) => JSON.stringify(queued.trigger)),
        column(({ queued }) => JSON.stringify(envelopeOf(queued.envelope))),
        column(({ remember }) => remember?.eventId ?? null),
        column(({ remember }) => remember?.occurredAt ?? null),
        column(({ remember }) =>
          remember
            ? JSON.stringify({
                eventType: remember.eventType,
                occurredAt: remember.occurredAt,
                attributes: remember.attributes,
              })
            : null,
        ),
        decidedHere,
        this.channel,
      ],
    );
    if (manager.queryRunner) queuedBy.add(manager.queryRunner);
  }

  /**
   * The oldest queued triggers of the `shards` given (not failed, not `excluding`), in position order, each with
   * its case history as of its position — one round trip for the whole batch instead of one history query per
   * decision.
   */
  async pending(
    manager: EntityManager,
    limit: number,
    excluding: readonly string[],
    historyLimit: number,
    shards: readonly number[],
  ): Promise<PendingTrigger[]> {
    const rows = await manager.query<
      Array<{
        decision_id: string;
        shard: number;
        position: string;
        trigger: DecisionTrigger;
        envelope: TriggerEnvelope;
        history: HistoryRow[];
      }>
    >(
      `SELECT q.decision_id, q.shard, q.position, q.trigger, q.envelope,
         COALESCE((
           SELECT json_agg(json_build_object('event_id', h.event_id, 'event', h.event)
                           ORDER BY h.occurred_at, h.event_id)
           FROM (
             SELECT event_id, event, occurred_at FROM ${this.caseEvents} c
             WHERE c.tenant = q.tenant AND c.case_id = q.case_id AND c.position <= q.position
             ORDER BY c.occurred_at DESC, c.event_id DESC
             LIMIT $3
           ) h
         ), '[]'::json) AS history
       FROM (SELECT t.*, ${shardOf('t.tenant', 't.case_id')} AS shard FROM ${this.triggers} t) q
       WHERE q.failed_at IS NULL AND q.decision_id <> ALL($2::text[]) AND q.shard = ANY($4::int[])
       ORDER BY q.position
       LIMIT $1`,
      [limit, excluding, historyLimit, shards],
    );
    return rows.map((row) => ({
      decisionId: row.decision_id,
      shard: row.shard,
      position: row.position,
      trigger: row.trigger,
      envelope: row.envelope,
      history: row.history.map(historyEntryOf),
      historyLimit,
    }));
  }

  /** A trigger that could not be decided after every attempt stays, out of the queue, with the reason. */
  async markFailed(manager: EntityManager, decisionId: string, error: string): Promise<void> {
    await manager.query(`UPDATE ${this.triggers} SET failed_at = now(), error = $2 WHERE decision_id = $1`, [
      decisionId,
      error.slice(0, 4000),
    ]);
  }

  /** Triggers waiting (failed ones excluded): read by the metrics scrape. */
  async depth(manager: EntityManager): Promise<number> {
    const [row] = await manager.query<[{ n: number }]>(
      `SELECT count(*)::int AS n FROM ${this.triggers} WHERE failed_at IS NULL`,
    );
    return row.n;
  }
}
