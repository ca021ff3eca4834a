import { classifyPostgresFailure } from '@keel/persistence';
import type { JsonValue, RenderedConnectorCall } from '@keel/workflow-engine';
import type { DataSource } from 'typeorm';
import type { PostgresStatement } from '../persistence/postgres-statements-file';
import {
  type Connector,
  type ConnectorCallContext,
  type ConnectorOutputs,
  type ConnectorResult,
  errorText,
} from './connector';

type PostgresCall = Extract<RenderedConnectorCall, { type: 'postgres' }>;

/** The database role task statements run as: no DDL, no access to the workflow schema (`WorkflowTaskRole` migration). */
export const workflowTaskRole = 'keel_workflow_task';

/**
 * Runs a statement registered by name (definitions never carry SQL) with the call's params as `$1…`, only for
 * the templates the statement allows, as the `keel_workflow_task` role and within the attempt's time budget.
 * The attempt's idempotency key is `current_setting('keel.idempotency_key')` inside the statement's
 * transaction, for statements that must apply once (`… ON CONFLICT (idempotency_key) DO NOTHING`); a
 * read needs not mention it. The rows returned become the task output. A statement the database refuses
 * (constraint, data, privilege) fails for good; a lost connection or a lost race is retried.
 */
export class PostgresConnector implements Connector<PostgresCall> {
  readonly type = 'postgres' as const;

  constructor(
    private readonly dataSource: DataSource,
    private readonly statements: Readonly<Record<string, PostgresStatement>>,
  ) {}

  async execute(
    call: PostgresCall,
    context: ConnectorCallContext,
  ): Promise<ConnectorResult<ConnectorOutputs['postgres']>> {
    const statement = this.statements[call.statement];
    if (!statement)
      return { outcome: 'failed', error: `no statement registered as '${call.statement}'`, retryable: false };
    if (!statement.templates.includes(context.workflow)) {
      return {
        outcome: 'failed',
        error: `statement '${call.statement}' is not allowed for template '${context.workflow}'`,
        retryable: false,
      };
    }
    try {
      const rows = await this.dataSource.transaction(async (manager) => {
        await manager.query(`SET LOCAL ROLE ${workflowTaskRole}`);
        // An operator's statement is planned as Postgres chooses, not under the service's generic plans (ADR 0035).
        await manager.query(
          `SELECT set_config('keel.idempotency_key', $1, true), set_config('statement_timeout', $2, true),
                  set_config('plan_cache_mode', 'auto', true)`,
          [context.idempotencyKey, String(Math.max(1, Math.ceil(context.timeoutMs)))],
        );
        return manager.query<JsonValue[]>(statement.sql, [...call.params]);
      });
      return { outcome: 'succeeded', output: { rows: Array.isArray(rows) ? rows : [] } };
    } catch (error) {
      const kind = classifyPostgresFailure(error);
      if (kind === 'timeout') return { outcome: 'timedOut' };
      return {
        outcome: 'failed',
        error: `${call.statement}: ${errorText(error)}`,
        retryable: kind !== 'permanent',
      };
    }
  }
}
