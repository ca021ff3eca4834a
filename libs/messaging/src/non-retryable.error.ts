/** Thrown by a handler when retrying cannot help (the record itself is wrong): it goes to the DLQ at once. */
export class NonRetryableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NonRetryableError';
  }
}
