import type { JsonValue, RenderedConnectorCall } from '@keel/workflow-engine';
import type { DataSource } from 'typeorm';
import { type Connector, type ConnectorCallContext, type ConnectorResult, errorText } from './connector';

type PostgresCall = Extract<RenderedConnectorCall, { type: 'postgres' }>;

/**
 * Runs a statement registered by name (definitions never carry SQL). `$1` is always the idempotency key —
 * statements use it (e.g. `ON CONFLICT (idempotency_key) DO NOTHING`) to apply once — and the call's
 * params follow as `$2…`. The rows returned become the task output.
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
      const rows = await this.dataSource.query<JsonValue[]>(sql, [context.idempotencyKey, ...call.params]);
      return { outcome: 'succeeded', output: { rows: Array.isArray(rows) ? rows : [] } };
    } catch (error) {
      return { outcome: 'failed', error: `${call.statement}: ${errorText(error)}`, retryable: true };
    }
  }
}
