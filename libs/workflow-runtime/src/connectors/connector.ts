import type { JsonValue, RenderedConnectorCall } from '@keel/workflow-engine';

/**
 * What each connector's successful call stores at `steps.<id>.output`: the contract templates rely on, as
 * documented in the engine's README (Connectors).
 */
export interface ConnectorOutputs {
  /** The JSON response body; an empty body is `{ status }`, one that is not JSON `{ status, body }`. */
  readonly http: JsonValue;
  /** The topic's full name and the id of the event published (the attempt's idempotency key). */
  readonly kafka: { topic: string; eventId: string };
  /** The rows the statement returned (none for a statement without `RETURNING`). */
  readonly postgres: { rows: JsonValue[] };
}

/** How a connector call ended; the task worker turns it into the engine's task input. */
export type ConnectorResult<Output extends JsonValue = JsonValue> =
  | { readonly outcome: 'succeeded'; readonly output: Output }
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
  execute(
    call: Call,
    context: ConnectorCallContext,
  ): Promise<ConnectorResult<ConnectorOutputs[Call['type']]>>;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
