import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { HealthDetails } from './health-detail';
import { type ReadinessReport, ReadinessService } from './readiness.service';

interface LivenessReport {
  readonly status: 'up';
  readonly uptimeSeconds: number;
}

/** Probes for orchestrators: liveness (restart me) is separate from readiness (send me traffic). */
@Controller('health')
export class HealthController {
  constructor(
    private readonly readiness: ReadinessService,
    private readonly details: HealthDetails,
  ) {}

  @Get()
  async health(): Promise<{ live: LivenessReport; ready: ReadinessReport } & Record<string, unknown>> {
    // Details (e.g. `release`) first, so no detail can replace the probes' own keys.
    const body = { ...this.details.read(), live: liveness(), ready: await this.readiness.report() };
    if (body.ready.status === 'not_ready') throw new ServiceUnavailableException(body);
    return body;
  }

  /** Answers while the process serves HTTP; never checks dependencies, so an outage does not restart it. */
  @Get('live')
  live(): LivenessReport {
    return liveness();
  }

  /** 200 when every check passes, 503 with each check's reason otherwise. */
  @Get('ready')
  async ready(): Promise<ReadinessReport> {
    const report = await this.readiness.report();
    if (report.status === 'not_ready') throw new ServiceUnavailableException(report);
    return report;
  }
}

function liveness(): LivenessReport {
  return { status: 'up', uptimeSeconds: Math.round(process.uptime()) };
}
