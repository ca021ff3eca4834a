import { type CloudEvent, type ReleaseEvent, type TopicKey } from '@keel/contracts';
import { KafkaEventContext, KafkaEventHandlers } from '@keel/messaging';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { Inject } from '@nestjs/common';
import { ReleaseApplication } from './release-application';

/** `keel.governance.releases.v1` → the service's release application, in the consumer's transaction. */
@KafkaEventHandlers()
export class ReleaseInboxController {
  constructor(@Inject(ReleaseApplication) private readonly application: ReleaseApplication) {}

  @EventPattern('releases' satisfies TopicKey)
  async onRelease(
    @Payload() event: CloudEvent<ReleaseEvent>,
    @Ctx() context: KafkaEventContext,
  ): Promise<void> {
    await this.application.handle(context.manager, event);
  }
}
