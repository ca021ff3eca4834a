import { createHash } from 'node:crypto';
import { chunkDocument, indexedTextOf, sha256Hex } from './chunking';

const markdown = (content: string) => ({
  documentId: 'refunds',
  version: 3,
  title: 'Refund policy',
  mediaType: 'text/markdown' as const,
  content,
});

describe('chunking', () => {
  it('starts a new chunk at each heading and records the heading path', () => {
    const chunks = chunkDocument(
      markdown(
        '# Refunds\nIntro sentence.\n## Windows\nWithin 30 days.\n## Exceptions\nSale items are final.\n# Shipping\nFree.',
      ),
    );
    expect(chunks.map((chunk) => [chunk.headingPath, chunk.text])).toEqual([
      [['Refunds'], 'Intro sentence.'],
      [['Refunds', 'Windows'], 'Within 30 days.'],
      [['Refunds', 'Exceptions'], 'Sale items are final.'],
      [['Shipping'], 'Free.'],
    ]);
    expect(chunks.map((chunk) => chunk.chunkId)).toEqual([
      'refunds@3#0',
      'refunds@3#1',
      'refunds@3#2',
      'refunds@3#3',
    ]);
  });

  it('cuts between sentences, never inside one, and repeats the last sentence as overlap', () => {
    const sentences = [
      'Alpha one two three.',
      'Beta four five six.',
      'Gamma seven eight.',
      'Delta nine ten.',
    ];
    const chunks = chunkDocument(markdown(sentences.join(' ')), { maxChars: 45, overlapChars: 20 });
    expect(chunks.map((chunk) => chunk.text)).toEqual([
      'Alpha one two three. Beta four five six.',
      'Beta four five six. Gamma seven eight.',
      'Gamma seven eight. Delta nine ten.',
    ]);
    for (const chunk of chunks) expect(chunk.text.length).toBeLessThanOrEqual(45);
  });

  it('does not treat a # inside a code fence as a heading, and keeps plain text headingless', () => {
    const fenced = chunkDocument(markdown('# Setup\n```\n# not a heading\n```\nRun it.'));
    expect(fenced).toHaveLength(1);
    expect(fenced[0].headingPath).toEqual(['Setup']);
    const plain = chunkDocument({ ...markdown('# Not a heading in plain text.'), mediaType: 'text/plain' });
    expect(plain[0].headingPath).toEqual([]);
    expect(plain[0].text).toBe('# Not a heading in plain text.');
  });

  it('cuts a sentence longer than the limit between words', () => {
    const chunks = chunkDocument(markdown('word '.repeat(30).trim()), { maxChars: 24, overlapChars: 0 });
    expect(chunks.every((chunk) => chunk.text.length <= 24 && !chunk.text.startsWith(' '))).toBe(true);
    expect(chunks.map((chunk) => chunk.text).join(' ')).toBe('word '.repeat(30).trim());
  });

  it('hashes each chunk text with sha-256 and puts title and headings in the indexed text', () => {
    const [chunk] = chunkDocument(markdown('# Windows\nWithin 30 days.'));
    expect(chunk.chunkHash).toBe(createHash('sha256').update('Within 30 days.').digest('hex'));
    expect(sha256Hex('café')).toBe(createHash('sha256').update('café', 'utf8').digest('hex'));
    expect(chunk.chunkHash).toMatch(/^[0-9a-f]{64}$/);
    expect(indexedTextOf('Refund policy', chunk)).toBe('Refund policy\nWindows\nWithin 30 days.');
  });
});
