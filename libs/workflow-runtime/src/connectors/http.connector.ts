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
const redirectStatuses = new Set([301, 302, 303, 307, 308]);
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
    const signal = AbortSignal.timeout(context.timeoutMs);
    const label = `${call.method} ${call.service}${call.path}`;
    try {
      let url = resolveServiceUrl(base, call.path);
      for (let redirects = 0; ; redirects++) {
        const response = await fetch(url, {
          method: call.method,
          headers: {
            ...call.headers,
            'content-type': 'application/json',
            'idempotency-key': context.idempotencyKey,
            'x-correlation-id': context.correlationId,
          },
          ...(call.body === undefined || call.method === 'GET' ? {} : { body: JSON.stringify(call.body) }),
          redirect: 'manual',
          signal,
        });
        if (redirectStatuses.has(response.status)) {
          await response.body?.cancel();
          const location = response.headers.get('location');
          const next = location === null ? undefined : new URL(location, url);
          if (next === undefined || !isUnderService(base, next) || redirects >= maxRedirects) {
            return {
              outcome: 'failed',
              error: `${label} redirected to ${location ?? '(no location)'}, outside service '${call.service}' or too often`,
              retryable: false,
            };
          }
          url = next;
          continue;
        }
        const text = await readCapped(response, this.maxResponseBytes);
        if (text === undefined) {
          return {
            outcome: 'failed',
            error: `${label}: response larger than ${this.maxResponseBytes} bytes`,
            retryable: false,
          };
        }
        if (response.ok) return { outcome: 'succeeded', output: parseBody(text, response.status) };
        return {
          outcome: 'failed',
          error: `${label} answered ${response.status}: ${text.slice(0, 500)}`,
          retryable: retryableStatuses.has(response.status),
        };
      }
    } catch (error) {
      if (error instanceof UnsafeServicePathError) {
        return { outcome: 'failed', error: `${call.service}: ${error.message}`, retryable: false };
      }
      if (signal.aborted) return { outcome: 'timedOut' };
      return { outcome: 'failed', error: `${label}: ${errorText(error)}`, retryable: true };
    }
  }
}

/** The body as text, or undefined once it grows past `limit` bytes (the rest is not read). */
async function readCapped(response: Response, limit: number): Promise<string | undefined> {
  if (!response.body) return '';
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > limit) {
    await response.body.cancel();
    return undefined;
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > limit) {
      await response.body.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(text: string, status: number): JsonValue {
  if (text.trim() === '') return { status };
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return { status, body: text.slice(0, 10_000) };
  }
}
