import { applyDecorators, Catch, Controller, type RpcExceptionFilter, UseFilters } from '@nestjs/common';
import { type Observable, throwError } from 'rxjs';

/**
 * Hands a handler's error to the transport untouched. Nest's default RPC filter would replace it with
 * `{ status: 'error', message: 'Internal server error' }`, losing what the consumer needs to decide
 * between retry and dead letter (`NonRetryableError`, contract violations) and the reason it records.
 */
@Catch()
export class KafkaEventErrorFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}

/** Marks a controller of `@EventPattern` handlers served by `KafkaEventTransport`. */
export function KafkaEventHandlers(): ClassDecorator {
  return applyDecorators(Controller(), UseFilters(new KafkaEventErrorFilter()));
}
