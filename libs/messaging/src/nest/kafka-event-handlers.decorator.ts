import { applyDecorators, Catch, Controller, type RpcExceptionFilter, UseFilters } from '@nestjs/common';
import { EventPattern } from '@nestjs/microservices';
import { type Observable, throwError } from 'rxjs';
import type { EventFilter } from '../event-consumer';

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

/** The `@EventPattern` extra that marks a run handler (read by `KafkaEventTransport`). */
export const eventRunsExtra = 'keelEventRuns';

/** The `@EventPattern` extra holding the subscription's `accepts` filter (read by `KafkaEventTransport`). */
export const eventFilterExtra = 'keelAccepts';

/** The `@EventPattern` extra holding the subscription's `gatherMs` (read by `KafkaEventTransport`). */
export const eventGatherExtra = 'keelGatherMs';

export interface EventPatternOptions<Data = unknown> {
  /**
   * Only events it accepts reach the handler; the others are passed over without a delivery count or a
   * processed-event row, and a run of only those costs no Postgres statement (`SubscriptionOptions.accepts`).
   */
  readonly accepts?: EventFilter<Data>;
  /** Each partition fetched at most once in this many ms, its records gathered meanwhile (`SubscriptionOptions.gatherMs`). */
  readonly gatherMs?: number;
}

/**
 * The extras of `@EventPattern(<topic key>, acceptingOnly(filter))`: the handler sees only events the filter
 * accepts (`SubscriptionOptions.accepts`).
 */
export function acceptingOnly<Data>(accepts: EventFilter<Data>): Record<string, unknown> {
  return { [eventFilterExtra]: accepts };
}

/**
 * Like `@EventPattern(<topic key>)`, but the handler takes whole runs (`subscribeRuns`): `@Payload()` is the
 * run's fresh events of one partition, in order, and `@Ctx()` a `KafkaEventRunContext` whose transaction also
 * records their ids — so all their effects can go in one statement. When the call fails, the run is redone a
 * record at a time (each a run of one): the handler must not assume a run's size, only its order. With
 * `accepts`, a run holds only the events it accepts.
 */
export function EventRunPattern<Data = unknown>(
  topicKey: string,
  { accepts, gatherMs }: EventPatternOptions<Data> = {},
): MethodDecorator {
  return EventPattern(topicKey, {
    [eventRunsExtra]: true,
    ...(accepts && acceptingOnly(accepts)),
    ...(gatherMs === undefined ? {} : { [eventGatherExtra]: gatherMs }),
  });
}
