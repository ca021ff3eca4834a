import { PollingLoop } from '@keel/messaging';
import { Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { type ApprovalsInboxService } from './approvals-inbox.service';

/** Sweeps the inbox for guardrail holds past their deadline while the service runs. */
export class HoldEscalationLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly loop: PollingLoop;

  constructor(inbox: ApprovalsInboxService, intervalMs: number) {
    const logger = new Logger('HoldEscalation');
    this.loop = new PollingLoop(() => inbox.escalateDueHolds(), {
      intervalMs,
      onError: (error) => logger.error('escalating held decisions failed', { error: String(error) }),
    });
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }
}
