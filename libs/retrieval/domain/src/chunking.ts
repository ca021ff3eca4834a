import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';

/** The parts of a knowledge document version the chunker reads. */
export interface ChunkableDocument {
  readonly documentId: string;
  readonly version: number;
  readonly title: string;
  readonly mediaType: 'text/plain' | 'text/markdown';
  readonly content: string;
}

export interface ChunkingOptions {
  /** Upper bound of a chunk's text, in characters; only a single word longer than this exceeds it. */
  readonly maxChars: number;
  /** How much of the previous chunk's tail (whole sentences) a chunk repeats, at most, in characters. */
  readonly overlapChars: number;
}

export const defaultChunking: ChunkingOptions = { maxChars: 1200, overlapChars: 200 };

export interface DocumentChunk {
  readonly chunkId: string;
  readonly documentId: string;
  readonly version: number;
  readonly index: number;
  /** Headings above the chunk, outermost first; never crosses a heading. */
  readonly headingPath: readonly string[];
  readonly text: string;
  /** sha-256 hex of `text`. */
  readonly chunkHash: string;
}

interface Section {
  readonly headingPath: readonly string[];
  readonly body: string;
}

const headingLine = /^(#{1,6})[ \t]+(.+?)[ \t#]*$/;
const sentenceSegmenter = new Intl.Segmenter('en', { granularity: 'sentence' });

/** sha-256 hex of a text's UTF-8 bytes: a chunk's hash, which decision records cite. */
export function sha256Hex(text: string): string {
  return bytesToHex(sha256(utf8ToBytes(text)));
}

/** A chunk's stable id: document, version and position. */
export function chunkIdOf(documentId: string, version: number, index: number): string {
  return `${documentId}@${version}#${index}`;
}

/**
 * Splits a document version into chunks: Markdown headings start a new section (a chunk never spans two),
 * sections are packed sentence by sentence up to `maxChars`, and each chunk after the first in a section
 * starts with the previous chunk's last sentences (up to `overlapChars`).
 */
export function chunkDocument(
  document: ChunkableDocument,
  options: ChunkingOptions = defaultChunking,
): DocumentChunk[] {
  if (options.overlapChars >= options.maxChars)
    throw new RangeError('overlapChars must be smaller than maxChars');
  const texts = sectionsOf(document).flatMap((section) =>
    packSentences(sentencesOf(section.body, options.maxChars), options).map((text) => ({ section, text })),
  );
  return texts.map(({ section, text }, index) => ({
    chunkId: chunkIdOf(document.documentId, document.version, index),
    documentId: document.documentId,
    version: document.version,
    index,
    headingPath: section.headingPath,
    text,
    chunkHash: sha256Hex(text),
  }));
}

function sectionsOf(document: ChunkableDocument): Section[] {
  if (document.mediaType === 'text/plain') return [{ headingPath: [], body: document.content }];
  const sections: Section[] = [];
  let path: string[] = [];
  let lines: string[] = [];
  let inFence = false;
  const flush = () => {
    const body = lines.join('\n').trim();
    if (body !== '') sections.push({ headingPath: path, body });
    lines = [];
  };
  for (const line of document.content.split(/\r?\n/)) {
    if (/^(```|~~~)/.test(line)) inFence = !inFence;
    const heading = inFence ? null : headingLine.exec(line);
    if (heading) {
      flush();
      const level = heading[1].length;
      // A skipped level (### right under #) nests under what is there, leaving no empty slot.
      path = [...path.slice(0, level - 1), heading[2]];
    } else {
      lines.push(line);
    }
  }
  flush();
  return sections;
}

/** Sentences of a section, paragraph breaks respected; a sentence longer than `maxChars` is cut between words. */
function sentencesOf(body: string, maxChars: number): string[] {
  const sentences: string[] = [];
  for (const paragraph of body.split(/\n[ \t]*\n/)) {
    const flat = paragraph.replace(/\s+/g, ' ').trim();
    if (flat === '') continue;
    for (const { segment } of sentenceSegmenter.segment(flat)) {
      const sentence = segment.trim();
      if (sentence === '') continue;
      sentences.push(...(sentence.length <= maxChars ? [sentence] : cutBetweenWords(sentence, maxChars)));
    }
  }
  return sentences;
}

function cutBetweenWords(sentence: string, maxChars: number): string[] {
  const pieces: string[] = [];
  let current = '';
  for (const word of sentence.split(' ')) {
    if (current !== '' && current.length + 1 + word.length > maxChars) {
      pieces.push(current);
      current = word;
    } else {
      current = current === '' ? word : `${current} ${word}`;
    }
  }
  if (current !== '') pieces.push(current);
  return pieces;
}

function packSentences(sentences: readonly string[], options: ChunkingOptions): string[] {
  const chunks: string[] = [];
  let current: string[] = [];
  let length = 0;
  let carried = 0; // sentences at the head of `current` repeated from the previous chunk
  for (const sentence of sentences) {
    const added = length === 0 ? sentence.length : length + 1 + sentence.length;
    if (current.length > carried && added > options.maxChars) {
      chunks.push(current.join(' '));
      current = overlapTail(current, options.overlapChars, options.maxChars - sentence.length - 1);
      carried = current.length;
      length = current.join(' ').length;
    }
    current.push(sentence);
    length = length === 0 ? sentence.length : length + 1 + sentence.length;
  }
  if (current.length > carried) chunks.push(current.join(' '));
  return chunks;
}

/** The last whole sentences of a chunk that fit both the overlap and the room the next sentence leaves. */
function overlapTail(sentences: readonly string[], overlapChars: number, room: number): string[] {
  const tail: string[] = [];
  let length = 0;
  for (let i = sentences.length - 1; i >= 0; i--) {
    const next = length === 0 ? sentences[i].length : length + 1 + sentences[i].length;
    if (next > overlapChars || next > room) break;
    tail.unshift(sentences[i]);
    length = next;
  }
  return tail;
}

/** The text both retrievers index for a chunk: its document title and headings give it context. */
export function indexedTextOf(title: string, chunk: Pick<DocumentChunk, 'headingPath' | 'text'>): string {
  return [title, ...chunk.headingPath, chunk.text].join('\n');
}
