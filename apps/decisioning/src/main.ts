import { bootstrapService } from '@keel/observability';
import { decisioningService } from './decisioning.service';

void bootstrapService(decisioningService);
