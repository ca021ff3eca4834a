/** @jest-environment ./libs/retrieval/data-access/src/onnx-runtime.test-environment.js */
import { join } from 'node:path';
import { MiniLmEmbedder } from './minilm-embedder';
import { resolveMiniLmModel } from './minilm-model';

const cosine = (x: number[], y: number[]) => x.reduce((sum, value, i) => sum + value * y[i], 0);

describe('the local MiniLM embedder (model resolved from Maven Central by scripts/models/minilm.sh)', () => {
  let embedder: MiniLmEmbedder;

  beforeAll(async () => {
    embedder = await MiniLmEmbedder.load(resolveMiniLmModel(join(__dirname, '../../../..')));
  }, 180_000);

  it('gives 384-dimensional unit vectors that place paraphrases closer than unrelated text', async () => {
    const [bread, food, weather] = await embedder.embed(
      ['A man is eating a piece of bread.', 'A man is eating food.', 'The stock market fell sharply today.'],
      'document',
    );
    expect(bread).toHaveLength(384);
    expect(Math.hypot(...bread)).toBeCloseTo(1, 5);
    expect(cosine(bread, food)).toBeGreaterThan(0.6);
    expect(cosine(bread, weather)).toBeLessThan(0.2);
  });

  it('embeds a text the same whatever it is embedded with', async () => {
    const [alone] = await embedder.embed(['refund policy'], 'query');
    const [withOthers] = await embedder.embed(
      ['refund policy', 'stock markets fell', 'a much longer text '.repeat(9)],
      'query',
    );
    expect(withOthers).toEqual(alone);
  });

  it('truncates long texts to 256 tokens instead of failing', async () => {
    const [long] = await embedder.embed(['word '.repeat(2000)], 'document');
    expect(Math.hypot(...long)).toBeCloseTo(1, 5);
  });
});
