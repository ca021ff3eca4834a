import { HttpDeadlinePassed, HttpRequestInvalid, isRedirect, sendHttp } from '@keel/http-client';
import type { JsonValue, RenderedConnectorCall } from '@keel/workflow-engine';
import {
  type Connector,
  type ConnectorCallContext,
  type ConnectorOutputs,
  type ConnectorResult,
  errorText,
} from './connector';
import { UnsafeServicePathError, isUnderService, resolveServiceUrl } from './service-url';

type HttpCall = Extract<RenderedConnectorCall, { type: 'http' }>;

/** Statuses worth another attempt: timeouts, throttling, server-side failures. */
const retryableStatuses = new Set([408, 425, 429, 500, 502, 503, 504]);
const maxRedirects = 3;

export interface HttpConnectorLimits {
  /** A response body larger than this fails the attempt for good instead of filling the worker's memory. */
  readonly maxResponseBytes?: number;
}

/**
 * Calls a named service (`WORKFLOW_HTTP_SERVICES`: name → base URL) with an `Idempotency-Key` header and
 * a timeout. 2xx succeeds with the JSON body (or `{ status }` without one); other 4xx fail for good.
 * Templates choose only the service and a path under its base URL (`resolveServiceUrl`); a redirect is
 * followed only while it stays under that base, and the response body is capped.
 */
export class HttpConnector implements Connector<HttpCall> {
  readonly type = 'http' as const;
  private readonly maxResponseBytes: number;

  constructor(
    private readonly services: Readonly<Record<string, string>>,
    limits: HttpConnectorLimits = {},
  ) {
    this.maxResponseBytes = limits.maxResponseBytes ?? 1024 * 1024;
  }

  async execute(
    call: HttpCall,
    context: ConnectorCallContext,
  ): Promise<ConnectorResult<ConnectorOutputs['http']>> {
    const base = this.services[call.service];
    if (!base)
      return {
        outcome: 'failed',
        error: `no base URL configured for service '${call.service}'`,
        retryable: false,
      };
    const label = `${call.method} ${call.service}${call.path}`;
    const body = call.body === undefined || call.method === 'GET' ? undefined : JSON.stringify(call.body);
    const headers: Record<string, string> = {
      ...call.headers,
      'content-type': 'application/json',
      'idempotency-key': context.idempotencyKey,
      'x-correlation-id': context.correlationId,
    };
    const deadline = Date.now() + context.timeoutMs;
    try {
      let url = resolveServiceUrl(base, call.path);
      for (let redirects = 0; ; redirects++) {
        const answer = await sendHttp({
          method: call.method,
          url,
          headers,
          ...(body === undefined ? {} : { body }),
          deadline,
          maxResponseBytes: this.maxResponseBytes,
        });
        if (isRedirect(answer.status)) {
          const next = answer.location === undefined ? undefined : new URL(answer.location, url);
          if (next === undefined || !isUnderService(base, next) || redirects >= maxRedirects) {
            return {
              outcome: 'failed',
              error: `${label} redirected to ${answer.location ?? '(no location)'}, outside service '${call.service}' or too often`,
              retryable: false,
            };
          }
          url = next;
          continue;
        }
        if (answer.text === undefined) {
          return {
            outcome: 'failed',
            error: `${label}: response larger than ${this.maxResponseBytes} bytes`,
            retryable: false,
          };
        }
        if (answer.status >= 200 && answer.status < 300)
          return { outcome: 'succeeded', output: parseBody(answer.text, answer.status) };
        return {
          outcome: 'failed',
          error: `${label} answered ${answer.status}: ${answer.text.slice(0, 500)}`,
          retryable: retryableStatuses.has(answer.status),
        };
      }
    } catch (error) {
      if (error instanceof UnsafeServicePathError) {
        return { outcome: 'failed', error: `${call.service}: ${error.message}`, retryable: false };
      }
      if (error instanceof HttpDeadlinePassed) return { outcome: 'timedOut' };
      // A header the template rendered from data that HTTP cannot carry: every attempt would be refused alike.
      if (error instanceof HttpRequestInvalid)
        return { outcome: 'failed', error: `${label}: ${error.message}`, retryable: false };
      return { outcome: 'failed', error: `${label}: ${errorText(error)}`, retryable: true };
    }
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
