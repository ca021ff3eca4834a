import { decideVersion } from './document-version';

describe('document versions', () => {
  const current = { version: 2, contentHash: 'a'.repeat(64) };

  it('indexes a first version and a newer one', () => {
    expect(decideVersion(undefined, current)).toBe('index');
    expect(decideVersion(current, { version: 3, contentHash: 'b'.repeat(64) })).toBe('index');
  });

  it('skips a redelivered version and refuses an older one or the same version with other content', () => {
    expect(decideVersion(current, { ...current })).toBe('unchanged');
    expect(decideVersion(current, { version: 1, contentHash: 'c'.repeat(64) })).toBe('stale');
    expect(decideVersion(current, { version: 2, contentHash: 'd'.repeat(64) })).toBe('conflict');
  });
});
