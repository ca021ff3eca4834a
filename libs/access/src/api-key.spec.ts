import { issueApiKey, parseApiKey, secretMatches } from './api-key';

describe('API keys', () => {
  it('are issued with an id to find them by and only a hash of the secret to store', () => {
    const issued = issueApiKey();
    const parsed = parseApiKey(issued.key);
    expect(parsed?.id).toBe(issued.id);
    expect(issued.secretHash).toMatch(/^[0-9a-f]{64}$/);
    expect(issued.key).not.toContain(issued.secretHash);
    expect(secretMatches(parsed?.secret ?? '', issued.secretHash)).toBe(true);
  });

  it('refuse another secret, a malformed key and a malformed stored hash', () => {
    const one = issueApiKey();
    const other = issueApiKey();
    expect(secretMatches(parseApiKey(other.key)?.secret ?? '', one.secretHash)).toBe(false);
    expect(parseApiKey('keel_short_secret')).toBeUndefined();
    expect(parseApiKey(`${one.key}x`)).toBeUndefined();
    expect(secretMatches(parseApiKey(one.key)?.secret ?? '', 'abcd')).toBe(false);
  });
});
