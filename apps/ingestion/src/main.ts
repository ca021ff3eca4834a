import { bootstrapService } from '@keel/observability';
import { ingestionService } from './ingestion.service';

void bootstrapService(ingestionService);
