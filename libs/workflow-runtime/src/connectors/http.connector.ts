import type { JsonValue, RenderedConnectorCall } from '@keel/workflow-engine';
import { type Connector, type ConnectorCallContext, type ConnectorResult, errorText } from './connector';

type HttpCall = Extract<RenderedConnectorCall, { type: 'http' }>;

/** Statuses worth another attempt: timeouts, throttling, server-side failures. */
const retryableStatuses = new Set([408, 425, 429, 500, 502, 503, 504]);

/**
 * Calls a named service (`WORKFLOW_HTTP_SERVICES`: name → base URL) with an `Idempotency-Key` header and
 * a timeout. 2xx succeeds with the JSON body (or `{ status }` without one); other 4xx fail for good.
 */
export class HttpConnector implements Connector<HttpCall> {
  readonly type = 'http' as const;

  constructor(private readonly services: Readonly<Record<string, string>>) {}

  async execute(call: HttpCall, context: ConnectorCallContext): Promise<ConnectorResult> {
    const base = this.services[call.service];
    if (!base)
      return {
        outcome: 'failed',
        error: `no base URL configured for service '${call.service}'`,
        retryable: false,
      };
    let response: Response;
    try {
      response = await fetch(new URL(call.path, base), {
        method: call.method,
        headers: {
          ...call.headers,
          'content-type': 'application/json',
          'idempotency-key': context.idempotencyKey,
          'x-correlation-id': context.correlationId,
        },
        ...(call.body === undefined || call.method === 'GET' ? {} : { body: JSON.stringify(call.body) }),
        signal: AbortSignal.timeout(context.timeoutMs),
      });
    } catch (error) {
      if (error instanceof DOMException && error.name === 'TimeoutError') return { outcome: 'timedOut' };
      return {
        outcome: 'failed',
        error: `${call.method} ${call.service}${call.path}: ${errorText(error)}`,
        retryable: true,
      };
    }
    const text = await response.text();
    if (response.ok) return { outcome: 'succeeded', output: parseBody(text, response.status) };
    return {
      outcome: 'failed',
      error: `${call.method} ${call.service}${call.path} answered ${response.status}: ${text.slice(0, 500)}`,
      retryable: retryableStatuses.has(response.status),
    };
  }
}

function parseBody(text: string, status: number): JsonValue {
  if (text.trim() === '') return { status };
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return { status, body: text.slice(0, 10_000) };
  }
}
