import type { Violation } from '@keel/contracts';
import type { EventSubmission } from '@keel/ingestion-domain';
import type { SendResult } from './send-result';

export interface HttpIngestionClientOptions {
  /** Base URL of the ingestion service, e.g. `http://127.0.0.1:3001`. */
  readonly url: string;
  /** Attempts per batch while ingestion answers 429/503 or cannot be reached. */
  readonly maxAttempts?: number;
  /** First wait between attempts when the answer names none (`Retry-After`); doubles each time. */
  readonly retryDelayMs?: number;
  readonly correlationId?: string;
  /**
   * The `Authorization` header value for each request (`Bearer <jwt>`): ingestion admits operators of the
   * events' tenant. Asked before every request, so a source of short-lived tokens can renew them.
   */
  readonly authorization?: () => Promise<string>;
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** An event to send with the input line it came from. */
export interface NumberedEvent {
  readonly line: number;
  readonly event: EventSubmission;
}

interface ItemAnswer {
  index: number;
  outcome: 'accepted' | 'duplicate' | 'rejected';
  eventId?: string;
  subject?: string;
  error?: string;
  message?: string;
  violations?: Violation[];
}

interface ErrorAnswer {
  error?: string;
  message?: string;
  violations?: Violation[];
}

/** Statuses worth another attempt: rate limited, or the store or Kafka not taking events now. */
const retryable = new Set([429, 502, 503, 504]);

/**
 * Sends batches to `POST /v1/events` and answers a result per event. Retries what ingestion asks to be
 * retried (honouring `Retry-After`); a batch refused whole (a 4xx) rejects each of its events with that reason.
 */
export class HttpIngestionClient {
  private readonly maxAttempts: number;
  private readonly retryDelayMs: number;
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: HttpIngestionClientOptions) {
    this.maxAttempts = options.maxAttempts ?? 6;
    this.retryDelayMs = options.retryDelayMs ?? 500;
    this.fetch = options.fetch ?? fetch;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async send(batch: readonly NumberedEvent[]): Promise<SendResult[]> {
    if (batch.length === 0) return [];
    let failure = { error: 'unavailable', message: 'no attempt made' };
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      let response: Response;
      try {
        const authorization = await this.options.authorization?.();
        response = await this.fetch(new URL('/v1/events', this.options.url), {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(authorization ? { authorization } : {}),
            ...(this.options.correlationId ? { 'x-correlation-id': this.options.correlationId } : {}),
          },
          body: JSON.stringify({ events: batch.map((item) => item.event) }),
        });
      } catch (error) {
        failure = { error: 'unreachable', message: `ingestion unreachable: ${causeOf(error)}` };
        await this.backOff(attempt, undefined);
        continue;
      }
      const body = (await response.json().catch(() => ({}))) as ErrorAnswer & { results?: ItemAnswer[] };
      if (response.status === 207 && Array.isArray(body.results)) return this.resultsOf(batch, body.results);
      if (retryable.has(response.status)) {
        failure = {
          error: body.error ?? `http-${response.status}`,
          message: body.message ?? response.statusText,
        };
        await this.backOff(attempt, Number(response.headers.get('retry-after')));
        continue;
      }
      // Refused whole (400 not a batch, 401/403 no token or another tenant's, 413 too large…): every event
      // shares the reason.
      return batch.map(({ line }) => ({
        line,
        outcome: 'rejected',
        error: body.error ?? `http-${response.status}`,
        message: body.message ?? response.statusText,
        ...(body.violations ? { violations: body.violations } : {}),
      }));
    }
    return batch.map(({ line }) => ({ line, outcome: 'failed', ...failure }));
  }

  /** Waits before the next attempt (none after the last): `Retry-After` seconds, else doubling from the delay. */
  private async backOff(attempt: number, retryAfterSeconds: number | undefined): Promise<void> {
    if (attempt >= this.maxAttempts) return;
    const ms =
      retryAfterSeconds && retryAfterSeconds > 0
        ? retryAfterSeconds * 1000
        : this.retryDelayMs * 2 ** (attempt - 1);
    await this.sleep(ms);
  }

  private resultsOf(batch: readonly NumberedEvent[], answers: readonly ItemAnswer[]): SendResult[] {
    return batch.map(({ line }, index) => {
      const answer = answers.find((candidate) => candidate.index === index);
      if (!answer)
        return { line, outcome: 'failed', error: 'no-answer', message: 'ingestion answered no result' };
      const { index: _index, ...result } = answer;
      return { line, ...result };
    });
  }
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? String(error);
}
