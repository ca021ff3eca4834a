import type { Violation } from '@keel/contracts';

/**
 * What became of one event:
 * - `accepted` / `duplicate`: ingestion took it (now, or before under the same idempotency key);
 * - `sent`: the broker took it (Kafka mode; ingestion's verdict is on the case topic or the raw DLQ);
 * - `rejected`: it will never be accepted as it is (the reason names the field);
 * - `failed`: it could not be delivered (ingestion or the broker unavailable after retries).
 */
export type SendOutcome = 'accepted' | 'duplicate' | 'sent' | 'rejected' | 'failed';

export interface SendResult {
  readonly line: number;
  readonly outcome: SendOutcome;
  /** For rejected and failed events: a stable code (`invalid-payload`, `unavailable`…), message, violations. */
  readonly error?: string;
  readonly message?: string;
  readonly violations?: readonly Violation[];
  readonly eventId?: string;
  readonly subject?: string;
}

export interface SendSummary {
  readonly total: number;
  readonly counts: Readonly<Record<SendOutcome, number>>;
  /** Rejected and failed events by error code. */
  readonly reasons: Readonly<Record<string, number>>;
  /** Every rejected or failed event, in input order. */
  readonly problems: readonly SendResult[];
}

export function summarize(results: readonly SendResult[]): SendSummary {
  const counts: Record<SendOutcome, number> = { accepted: 0, duplicate: 0, sent: 0, rejected: 0, failed: 0 };
  const reasons: Record<string, number> = {};
  const problems: SendResult[] = [];
  for (const result of [...results].sort((a, b) => a.line - b.line)) {
    counts[result.outcome]++;
    if (result.outcome === 'rejected' || result.outcome === 'failed') {
      const code = result.error ?? result.outcome;
      reasons[code] = (reasons[code] ?? 0) + 1;
      problems.push(result);
    }
  }
  return { total: results.length, counts, reasons, problems };
}
