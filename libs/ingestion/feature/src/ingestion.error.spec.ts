import { NonRetryableError } from '@keel/messaging';
import { forConsumer, IngestionError } from './ingestion.error';

describe('IngestionError for consumers', () => {
  it('dead-letters what can never be accepted, with the code and every violation as the reason', () => {
    const error = new IngestionError('invalid-payload', 'payload does not satisfy order-system@1', {
      violations: [{ path: 'payload.weightKg', message: "must have required property 'weightKg'" }],
    });

    const thrown = forConsumer(error);

    expect(thrown).toBeInstanceOf(NonRetryableError);
    expect(thrown.message).toBe(
      "invalid-payload: payload does not satisfy order-system@1 (payload.weightKg: must have required property 'weightKg')",
    );
  });

  it('lets what may succeed later be retried', () => {
    const error = new IngestionError('store-unavailable', 'down');

    expect(forConsumer(error)).toBe(error);
    expect(error.httpStatus).toBe(503);
  });
});
