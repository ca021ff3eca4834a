import { bootstrapService } from '@keel/observability';
import { workflowService } from './workflow.service';

void bootstrapService(workflowService);
