import { RetrievalError, RetrievalErrorCode } from './retrieval.error';

describe('RetrievalError', () => {
  it('maps every code to an HTTP status and a consumer handling', () => {
    const mapped = Object.values(RetrievalErrorCode).map((code) => {
      const error = new RetrievalError(code, code);
      return [code, error.httpStatus, error.consumerHandling];
    });
    expect(mapped).toEqual([
      ['embedder-unavailable', 503, 'retry'],
      ['embedding-malformed', 502, 'retry'],
      ['vector-store-unavailable', 503, 'retry'],
      ['version-conflict', 409, 'dead-letter'],
      ['invalid-request', 400, 'dead-letter'],
    ]);
  });
});
