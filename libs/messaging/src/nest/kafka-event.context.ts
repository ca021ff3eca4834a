import { BaseRpcContext } from '@nestjs/microservices';
import type { EntityManager } from 'typeorm';
import type { EventContext, EventRunContext } from '../event-consumer';

/** What `@Ctx()` gives a Keel event handler: the transaction for its effect and the record's origin. */
export class KafkaEventContext extends BaseRpcContext<[EventContext]> {
  get manager(): EntityManager {
    return this.args[0].manager;
  }

  get origin(): Omit<EventContext, 'manager'> {
    const { manager: _manager, ...origin } = this.args[0];
    return origin;
  }
}

/** What `@Ctx()` gives an `@EventRunPattern` handler: the run's transaction and the partition it came from. */
export class KafkaEventRunContext extends BaseRpcContext<[EventRunContext]> {
  get manager(): EntityManager {
    return this.args[0].manager;
  }

  get origin(): Omit<EventRunContext, 'manager'> {
    const { manager: _manager, ...origin } = this.args[0];
    return origin;
  }
}
