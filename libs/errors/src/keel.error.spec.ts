import { type ErrorCatalog, KeelError } from './keel.error';

type ParcelErrorCode = 'unknown-parcel' | 'carrier-down';

const parcelErrors = {
  httpStatus: { 'unknown-parcel': 404, 'carrier-down': 503 },
  consumerHandling: { 'unknown-parcel': 'dead-letter', 'carrier-down': 'retry' },
} as const satisfies ErrorCatalog<ParcelErrorCode>;

class ParcelError extends KeelError<ParcelErrorCode> {
  constructor(code: ParcelErrorCode, message: string, options?: { cause?: unknown; details?: unknown }) {
    super(code, message, parcelErrors, options);
  }
}

describe('KeelError', () => {
  it("maps its code through the module's catalog for every transport", () => {
    const missing = new ParcelError('unknown-parcel', "no parcel 'p-1'");
    expect(missing).toBeInstanceOf(KeelError);
    expect(missing).toMatchObject({
      name: 'ParcelError',
      code: 'unknown-parcel',
      message: "no parcel 'p-1'",
    });
    expect([missing.httpStatus, missing.consumerHandling]).toEqual([404, 'dead-letter']);
    const down = new ParcelError('carrier-down', 'carrier answered 503');
    expect([down.httpStatus, down.consumerHandling]).toEqual([503, 'retry']);
  });

  it('keeps the cause and structured details', () => {
    const cause = new Error('socket hang up');
    const error = new ParcelError('carrier-down', 'carrier unreachable', {
      cause,
      details: { carrier: 'ups' },
    });
    expect(error.cause).toBe(cause);
    expect(error.details).toEqual({ carrier: 'ups' });
    expect(new ParcelError('carrier-down', 'x').details).toBeUndefined();
  });
});
