export { HttpSubmissions, type SubmissionAnswer } from './application/http-submissions';
export {
  type ItemResult,
  SourceEventIngestor,
  type SourceEventIngestorOptions,
  type SubmissionContext,
} from './application/source-event.ingestor';
export { configureIngestionHttp } from './ingestion-http';
export { ingestionConfigSchema, type IngestionConfig } from './ingestion.config';
export { forConsumer, IngestionError, type IngestionErrorCode, ingestionErrors } from './ingestion.error';
export { IngestionModule, type IngestionModuleOptions } from './ingestion.module';
export { IngestionTables1764100000000 } from './persistence/ingestion-tables.migration';
export { IngestionSourceSchemas1764300000000 } from './persistence/source-schemas.migration';
export { loadSourceFiles } from './source-files';
