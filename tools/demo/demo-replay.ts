import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HttpIngestionClient, type SendResult, parseEventLine } from '@keel/ingestion-client';
import type { EventSubmission } from '@keel/ingestion-domain';
import type { TargetSystems } from '@keel/simulators';
import { SingleBar } from 'cli-progress';

/** The bundled streams, in the order a day would bring them: knowledge first, then the three use cases. */
export const sampleFiles = [
  'knowledge-base.jsonl',
  'order-system.jsonl',
  'exception-feed.jsonl',
  'support-desk.jsonl',
];

export interface ReplayedLine {
  readonly file: string;
  readonly event: EventSubmission;
}

export function readSamples(dataDir: string): ReplayedLine[] {
  return sampleFiles.flatMap((file) =>
    readFileSync(join(dataDir, file), 'utf8')
      .split('\n')
      .flatMap((text, index) => {
        const parsed = parseEventLine(text, index + 1);
        if (!parsed) return [];
        if ('violations' in parsed) throw new Error(`${file}:${parsed.line}: ${parsed.error}`);
        return [{ file, event: parsed.event }];
      }),
  );
}

/**
 * What a source system does besides sending the event: the order system knows what it promised, the
 * exception feed what kind of exception it raised, the support desk when a ticket was opened. The
 * simulators measure the KPIs from these facts.
 */
function tellSourceSystem(systems: TargetSystems, { system, eventType, payload }: EventSubmission): void {
  const data = payload;
  if (system === 'order-system' && eventType === 'order.placed') {
    systems.orders.placed({
      orderId: String(data.orderId),
      occurredAt: new Date(String(data.occurredAt)),
      promisedBy: new Date(String(data.promisedBy)),
    });
  } else if (system === 'exception-feed' && eventType === 'exception.raised') {
    systems.remediation.raised(String(data.exceptionId), String(data.kind));
  } else if (system === 'support-desk' && eventType === 'ticket.created') {
    systems.support.created(String((data.ticket as Record<string, unknown>).id));
  }
}

/** Sends every line to ingestion's `POST /v1/events`, file by file, with a progress bar. */
export async function replay(
  lines: readonly ReplayedLine[],
  systems: TargetSystems,
  ingestionUrl: string,
  authorization: () => Promise<string>,
  showProgress: boolean,
): Promise<SendResult[]> {
  const client = new HttpIngestionClient({ url: ingestionUrl, authorization, correlationId: 'keel-demo' });
  const bar = new SingleBar({
    format: 'replaying  [{bar}] {value}/{total} events  {file}',
    stream: process.stderr,
    hideCursor: true,
    noTTYOutput: false,
  });
  if (showProgress) bar.start(lines.length, 0, { file: '' });
  const results: SendResult[] = [];
  try {
    // One request per file: a batch is one ingestion transaction, in the file's order.
    let done = 0;
    for (const file of sampleFiles) {
      const batch = lines.filter((line) => line.file === file);
      if (batch.length === 0) continue;
      for (const line of batch) tellSourceSystem(systems, line.event);
      const numbered = batch.map((line, index) => ({ line: done + index + 1, event: line.event }));
      results.push(...(await client.send(numbered)));
      done += batch.length;
      if (showProgress) bar.update(done, { file });
    }
  } finally {
    if (showProgress) bar.stop();
  }
  return results;
}
