import { bootstrapService } from '@keel/observability';
import { retrievalService } from './retrieval.service';

void bootstrapService(retrievalService);
