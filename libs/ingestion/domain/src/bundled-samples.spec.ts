import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundledSources } from './bundled-sources';
import { eventSubmissionSchema } from './event-submission';
import { SourceCatalog } from './source-catalog';

const samples = join(__dirname, '../../../../data/samples');
const catalog = new SourceCatalog(bundledSources, { maxPayloadDepth: 12 });

function linesOf(file: string): string[] {
  return readFileSync(join(samples, file), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '');
}

async function admit(line: string) {
  const submission = eventSubmissionSchema.safeParse(JSON.parse(line) as unknown);
  if (!submission.success) return 'not-a-submission';
  const admission = await catalog.admit(submission.data);
  return admission.outcome === 'admitted' ? admission.record.topic : admission.rejection.code;
}

describe('bundled sample data (data/samples), which the demo replays', () => {
  it.each([
    ['order-system.jsonl', 'caseEvents'],
    ['exception-feed.jsonl', 'caseEvents'],
    ['support-desk.jsonl', 'caseEvents'],
    ['knowledge-base.jsonl', 'knowledgeDocuments'],
  ])('%s is admitted line by line onto %s', async (file, topic) => {
    const lines = linesOf(file);

    expect(lines.length).toBeGreaterThan(5);
    expect(await Promise.all(lines.map(admit))).toEqual(lines.map(() => topic));
  });

  it('rejects.jsonl holds one example of each way an event is refused', async () => {
    const lines = linesOf('rejects.jsonl');
    const parseable = lines.slice(0, -1);

    expect(await Promise.all(parseable.map(admit))).toEqual([
      'invalid-payload',
      'unknown-schema-version',
      'unknown-source',
      'invalid-payload',
      'not-a-submission',
    ]);
    expect(() => JSON.parse(lines.at(-1) ?? '') as unknown).toThrow(SyntaxError);
  });
});
