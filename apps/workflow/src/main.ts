// First import: tracing must start before the modules it instruments load.
import './tracing';
import { bootstrapService } from '@keel/observability';
import { workflowService } from './workflow.service';

void bootstrapService(workflowService);
