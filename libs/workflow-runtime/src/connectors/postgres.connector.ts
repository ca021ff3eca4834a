import type { JsonValue, RenderedConnectorCall } from '@keel/workflow-engine';
import type { DataSource } from 'typeorm';
import { type Connector, type ConnectorCallContext, type ConnectorResult, errorText } from './connector';

type PostgresCall = Extract<RenderedConnectorCall, { type: 'postgres' }>;

/**
 * Runs a statement registered by name (definitions never carry SQL) with the call's params as `$1…`.
 * The attempt's idempotency key is `current_setting('keel.idempotency_key')` inside the statement's
 * transaction, for statements that must apply once (`… ON CONFLICT (idempotency_key) DO NOTHING`); a
 * read needs not mention it. The rows returned become the task output.
 */
export class PostgresConnector implements Connector<PostgresCall> {
  readonly type = 'postgres' as const;

  constructor(
    private readonly dataSource: DataSource,
    private readonly statements: Readonly<Record<string, string>>,
  ) {}

  async execute(call: PostgresCall, context: ConnectorCallContext): Promise<ConnectorResult> {
    const sql = this.statements[call.statement];
    if (!sql)
      return { outcome: 'failed', error: `no statement registered as '${call.statement}'`, retryable: false };
    try {
      const rows = await this.dataSource.transaction(async (manager) => {
        await manager.query(`SELECT set_config('keel.idempotency_key', $1, true)`, [context.idempotencyKey]);
        return manager.query<JsonValue[]>(sql, [...call.params]);
      });
      return { outcome: 'succeeded', output: { rows: Array.isArray(rows) ? rows : [] } };
    } catch (error) {
      return { outcome: 'failed', error: `${call.statement}: ${errorText(error)}`, retryable: true };
    }
  }
}
