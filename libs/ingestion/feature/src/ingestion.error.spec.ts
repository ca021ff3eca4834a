import { isKeelError } from '@keel/errors';
import { forConsumer, IngestionError } from './ingestion.error';

describe('IngestionError for consumers', () => {
  it('is dead-lettered by its catalog under its own code, with every violation in the message', () => {
    const error = new IngestionError('invalid-payload', 'payload does not satisfy order-system@1', {
      violations: [{ path: 'payload.weightKg', message: "must have required property 'weightKg'" }],
    });

    const thrown = forConsumer(error);

    expect(isKeelError(thrown)).toBe(true);
    expect(thrown).toMatchObject({ code: 'invalid-payload', consumerHandling: 'dead-letter' });
    expect(thrown.violations).toEqual(error.violations);
    expect(thrown.message).toBe(
      "payload does not satisfy order-system@1 (payload.weightKg: must have required property 'weightKg')",
    );
  });

  it('lets what may succeed later be retried', () => {
    const error = new IngestionError('store-unavailable', 'down');

    expect(forConsumer(error)).toBe(error);
    expect(error).toMatchObject({ httpStatus: 503, consumerHandling: 'retry' });
  });
});
