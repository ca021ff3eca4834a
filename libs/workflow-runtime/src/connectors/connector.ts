import type { JsonValue, RenderedConnectorCall } from '@keel/workflow-engine';

/** How a connector call ended; the task worker turns it into the engine's task input. */
export type ConnectorResult =
  | { readonly outcome: 'succeeded'; readonly output: JsonValue }
  | { readonly outcome: 'failed'; readonly error: string; readonly retryable: boolean }
  | { readonly outcome: 'timedOut' };

export interface ConnectorCallContext {
  /** Same for every re-issue of the attempt after a crash: the far side deduplicates on it. */
  readonly idempotencyKey: string;
  readonly timeoutMs: number;
  /** The template the attempt belongs to: connectors allow-list what each template may reach. */
  readonly workflow: string;
  readonly caseId: string;
  readonly tenant: string;
  readonly correlationId: string;
}

/** A port to the outside world; every side effect of a workflow goes through one. */
export interface Connector<Call extends RenderedConnectorCall = RenderedConnectorCall> {
  readonly type: Call['type'];
  execute(call: Call, context: ConnectorCallContext): Promise<ConnectorResult>;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
