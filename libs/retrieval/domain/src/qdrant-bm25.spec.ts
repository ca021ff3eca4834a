import {
  bm25DocumentVector,
  bm25Idf,
  bm25QueryVector,
  qdrantBm25TokenId,
  qdrantBm25Tokens,
} from './qdrant-bm25';

// The examples print fastembed's f64 weights to 8 decimals; Qdrant computes the same in f64 and stores f32.
const storedAsF32 = (...printed: number[]) => printed.map(Math.fround);

describe('BM25 sparse vectors computed as Qdrant computes them', () => {
  it('reproduces the Qdrant/bm25 model card example, made by a fastembed that did not lowercase', () => {
    // Model card of Qdrant/bm25: "You" and "Histori" keep their capitals, so it matches `lowercase: false`.
    const options = { k: 1.2, b: 0.75, avgLen: 256, lowercase: false };
    const first = bm25DocumentVector('You should stay, study and sprint.', options);
    expect(first.indices).toEqual([150760872, 171321964, 1881538586, 1932363795]);
    expect(first.values).toEqual(storedAsF32(1.67419738, 1.67419738, 1.67419738, 1.67419738));
    const second = bm25DocumentVector('History can only prepare us to be surprised yet again.', options);
    expect(second.indices).toEqual([578407224, 1008800696, 1117393019, 1849833631, 2090661150]);
    expect(second.values).toEqual(storedAsF32(1.66973021, 1.66973021, 1.66973021, 1.66973021, 1.66973021));
  });

  it('reproduces the fastembed leave-request example with Qdrant defaults (lowercased)', () => {
    expect(bm25DocumentVector('How to request vacation leave?')).toEqual({
      indices: [1253263062, 1943443462, 2064885619],
      values: storedAsF32(1.67868852, 1.67868852, 1.67868852),
    });
    const policy = bm25DocumentVector('Company leave policy explained.');
    expect(policy.indices).toEqual([203139330, 1442710396, 1943443462, 1971389377]);
    expect(policy.values).toEqual(storedAsF32(1.67419738, 1.67419738, 1.67419738, 1.67419738));
    const guide = bm25DocumentVector('Guide to submitting a leave request form.');
    expect(guide.indices).toEqual([14784032, 1209733406, 1546460417, 1943443462, 2064885619]);
    expect(guide.values).toEqual(storedAsF32(1.66973021, 1.66973021, 1.66973021, 1.66973021, 1.66973021));
  });

  it('saturates repeated terms and normalises by length against avg_len 256', () => {
    const vector = bm25DocumentVector('refund refund refund policy');
    const lengthNorm = 1 - 0.75 + (0.75 * 4) / 256;
    const weightOf = (token: string) => vector.values[vector.indices.indexOf(qdrantBm25TokenId(token))];
    expect(weightOf('refund')).toBe(Math.fround((3 * 2.2) / (1.2 * lengthNorm + 3)));
    expect(weightOf('polici')).toBe(Math.fround(2.2 / (1.2 * lengthNorm + 1)));
  });

  it('splits on every non-alphanumeric char, drops stopwords before stemming, and hashes UTF-8 bytes', () => {
    expect(qdrantBm25Tokens("Don't e-mail the Café's owners!")).toEqual(['e', 'mail', 'café', 'owner']);
    // murmur3("1872d942") is i32::MIN: its absolute value is 2^31, still a valid u32 index.
    expect(qdrantBm25TokenId('1872d942')).toBe(2147483648);
  });

  it('gives queries weight 1 per distinct token, in order of appearance', () => {
    expect(bm25QueryVector('leave request leave')).toEqual({
      indices: [qdrantBm25TokenId('leav'), qdrantBm25TokenId('request')],
      values: [1, 1],
    });
  });

  it('computes the IDF modifier Qdrant applies on the server', () => {
    expect(bm25Idf(10, 1)).toBeCloseTo(Math.log(9.5 / 1.5 + 1), 12);
    expect(bm25Idf(10, 10)).toBeCloseTo(Math.log(0.5 / 10.5 + 1), 12);
  });
});
