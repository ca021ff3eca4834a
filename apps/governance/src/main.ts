// First import: tracing must start before the modules it instruments load.
import './tracing';
import { bootstrapService } from '@keel/observability';
import { governanceService } from './governance.service';

void bootstrapService(governanceService);
