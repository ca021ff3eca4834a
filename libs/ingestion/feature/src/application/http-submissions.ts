import { ContractViolationError } from '@keel/contracts';
import { eventBatchSchema, eventSubmissionSchema, type SourceSubmission } from '@keel/ingestion-domain';
import { z } from 'zod';
import { IngestionError } from '../ingestion.error';
import { type IngestionMetrics } from '../ingestion.metrics';
import type { PublishBacklog } from '../persistence/publish-backlog.repository';
import type { Transactions } from '../persistence/transactions';
import type { EntityManager } from 'typeorm';
import type { ItemResult, SourceEventIngestor, SubmissionContext } from './source-event.ingestor';

export type SubmissionAnswer =
  | { readonly kind: 'single'; readonly result: Exclude<ItemResult, { outcome: 'rejected' }> }
  | { readonly kind: 'batch'; readonly results: ReadonlyArray<ItemResult & { readonly index: number }> };

type Rejected = Extract<ItemResult, { outcome: 'rejected' }>;
type Parsed = { readonly submission: SourceSubmission } | { readonly rejected: Rejected };

/**
 * `POST /v1/events` without the HTTP: one event (refused whole, 4xx naming the field) or a batch
 * (`{ events: [...] }`, a result per item), accepted in one statement.
 */
export class HttpSubmissions {
  private readonly batchSchema: ReturnType<typeof eventBatchSchema>;
  /** The oldest wait the outbox showed at the last read, and when (`clock`, taken before the read). */
  private lastBacklog: { readonly readAt: number; readonly waitMs: number } | undefined;

  constructor(
    private readonly ingestor: SourceEventIngestor,
    private readonly transactions: Transactions,
    private readonly backlog: PublishBacklog,
    private readonly metrics: IngestionMetrics,
    private readonly limits: { readonly maxBatchEvents: number; readonly maxPublishLagMs: number },
    /** Milliseconds on a monotonic clock. */
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.batchSchema = eventBatchSchema(limits.maxBatchEvents);
  }

  async submit(body: unknown, headers: { correlationId: string | undefined }): Promise<SubmissionAnswer> {
    try {
      const answer = await this.answer(body, headers);
      this.metrics.answered('http', answer.kind === 'single' ? [answer.result] : answer.results);
      return answer;
    } catch (error) {
      if (error instanceof IngestionError) this.metrics.failed('http', error, eventCountOf(body));
      throw error;
    }
  }

  private async answer(
    body: unknown,
    headers: { correlationId: string | undefined },
  ): Promise<SubmissionAnswer> {
    const context = parseContext(headers.correlationId);
    if (typeof body === 'object' && body !== null && 'events' in body) return this.submitBatch(body, context);
    const parsed = parseSubmission(body);
    if ('rejected' in parsed) throw rejectionError(parsed.rejected);
    const [result] = await this.ingest([parsed.submission], context);
    if (!result) throw new Error('the ingestor answered no result');
    if (result.outcome === 'rejected') throw rejectionError(result);
    return { kind: 'single', result };
  }

  private ingest(
    submissions: readonly SourceSubmission[],
    context: SubmissionContext,
  ): Promise<ItemResult[]> {
    // The ingestor's one write (keys and outbox rows in one statement) needs no transaction around it.
    return this.transactions.outside(async (manager) => {
      await this.refuseWhileStalled(manager);
      return this.ingestor.ingest(manager, submissions, context);
    });
  }

  /**
   * Senders are told to back off while the outbox waits longer than allowed (the relay cannot publish:
   * Kafka is down), instead of piling up events nobody publishes. Only the API: the raw-topic consumer reads
   * no faster than it commits, and a valid record must not end on its DLQ because the relay is behind.
   */
  private async refuseWhileStalled(manager: EntityManager): Promise<void> {
    // No event can wait longer now than the oldest did at the last read plus the time since (newer ones waited
    // less): while that bound stays under half the limit the answer is known, and the request saves a
    // statement. Half, because a row's wait counts from its transaction's start, which a read cannot see yet.
    const now = this.clock();
    const last = this.lastBacklog;
    if (last && last.waitMs + (now - last.readAt) <= this.limits.maxPublishLagMs / 2) return;
    const lagMs = await this.backlog.oldestWaitMs(manager);
    this.lastBacklog = { readAt: now, waitMs: lagMs ?? 0 };
    if (lagMs !== undefined && lagMs > this.limits.maxPublishLagMs) {
      throw new IngestionError(
        'publishing-stalled',
        `events accepted ${Math.round(lagMs / 1000)} s ago are still not on Kafka; try again later`,
      );
    }
  }

  private async submitBatch(body: object, context: SubmissionContext): Promise<SubmissionAnswer> {
    const batch = this.batchSchema.safeParse(body);
    if (!batch.success) {
      throw rejectionError({
        outcome: 'rejected',
        error: 'invalid-request',
        message: 'not a batch of events',
        violations: ContractViolationError.fromZod('body', batch.error).violations,
      });
    }
    const parsed = batch.data.events.map(parseSubmission);
    const admissible = parsed.flatMap((item) => ('submission' in item ? [item.submission] : []));
    const ingested = await this.ingest(admissible, context);
    let next = 0;
    const results = parsed.map((item, index) => {
      const result = 'rejected' in item ? item.rejected : ingested[next++];
      if (!result) throw new Error('the ingestor answered fewer results than submissions');
      return { index, ...result };
    });
    return { kind: 'batch', results };
  }
}

/** How many events a request held, for counting one refused whole. */
function eventCountOf(body: unknown): number {
  const events = (body as { events?: unknown } | null)?.events;
  return Array.isArray(events) ? Math.max(1, events.length) : 1;
}

const correlationIdSchema = z.string().min(1).max(200).optional();

function parseContext(correlationId: string | undefined): SubmissionContext {
  const parsed = correlationIdSchema.safeParse(correlationId);
  if (!parsed.success) {
    throw new IngestionError('invalid-request', 'bad x-correlation-id header', {
      violations: ContractViolationError.fromZod('headers', parsed.error, 'x-correlation-id').violations,
    });
  }
  return parsed.data === undefined ? {} : { correlationId: parsed.data };
}

function parseSubmission(value: unknown): Parsed {
  const parsed = eventSubmissionSchema.safeParse(value);
  if (parsed.success) return { submission: parsed.data };
  return {
    rejected: {
      outcome: 'rejected',
      error: 'invalid-request',
      message: 'not a source event',
      violations: ContractViolationError.fromZod('event', parsed.error).violations,
    },
  };
}

function rejectionError(result: Rejected): IngestionError {
  return new IngestionError(result.error, result.message, { violations: result.violations });
}
