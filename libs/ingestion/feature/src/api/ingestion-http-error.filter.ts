import { type ArgumentsHost, Catch, type ExceptionFilter, PayloadTooLargeException } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import { IngestionError } from '../ingestion.error';

/** The part of the platform's response object this filter uses. */
interface JsonResponse {
  status(code: number): { json(body: unknown): void };
  setHeader(name: string, value: string): void;
}

/** Seconds a client should wait before sending again after a 503. */
const retryAfterSeconds = '5';

/**
 * The one place ingestion errors become HTTP answers: the catalog's status, the code, a message and the
 * violations naming each field; never a stack. A 503 says when to retry.
 */
@Catch(IngestionError, ThrottlerException, PayloadTooLargeException)
export class IngestionHttpErrorFilter implements ExceptionFilter {
  catch(error: IngestionError | ThrottlerException | PayloadTooLargeException, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<JsonResponse>();
    if (error instanceof ThrottlerException) {
      response.status(429).json({ error: 'rate-limited', message: 'too many requests; slow down' });
      return;
    }
    if (error instanceof PayloadTooLargeException) {
      response.status(413).json({ error: 'body-too-large', message: error.message });
      return;
    }
    if (error.httpStatus === 503) response.setHeader('Retry-After', retryAfterSeconds);
    response.status(error.httpStatus).json({
      error: error.code,
      message: error.message,
      ...(error.violations.length > 0 ? { violations: error.violations } : {}),
    });
  }
}
