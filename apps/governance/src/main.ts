import { bootstrapService } from '@keel/observability';
import { governanceService } from './governance.service';

void bootstrapService(governanceService);
