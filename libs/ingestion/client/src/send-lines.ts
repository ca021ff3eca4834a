import { parseEventLine } from './event-lines';
import type { NumberedEvent } from './http-ingestion.client';
import type { SendResult } from './send-result';

/** Where events go: the HTTP API or the raw topic. */
export interface EventSink {
  send(batch: readonly NumberedEvent[]): Promise<SendResult[]>;
}

export interface SendLinesOptions {
  readonly batchSize: number;
  /** Called after each batch (and each line refused before sending) with how many lines are done. */
  readonly onProgress?: (done: number) => void;
}

/**
 * Reads JSON lines, refuses the ones that are not source events (with the line and field), and sends the
 * rest in batches, one batch at a time, so a slow or refusing ingestion slows the reader instead of
 * piling events up in memory. One result per non-blank line.
 */
export async function sendLines(
  lines: AsyncIterable<string>,
  sink: EventSink,
  options: SendLinesOptions,
): Promise<SendResult[]> {
  const results: SendResult[] = [];
  let batch: NumberedEvent[] = [];
  let done = 0;
  const flush = async () => {
    const sent = batch;
    batch = [];
    results.push(...(await sink.send(sent)));
    done += sent.length;
    options.onProgress?.(done);
  };
  let number = 0;
  for await (const text of lines) {
    number++;
    const parsed = parseEventLine(text, number);
    if (!parsed) continue;
    if ('violations' in parsed) {
      results.push({
        line: parsed.line,
        outcome: 'rejected',
        error: parsed.error,
        message: parsed.error === 'not-json' ? 'the line is not JSON' : 'the line is not a source event',
        violations: parsed.violations,
      });
      options.onProgress?.(++done);
      continue;
    }
    batch.push(parsed);
    if (batch.length >= options.batchSize) await flush();
  }
  if (batch.length > 0) await flush();
  return results;
}
