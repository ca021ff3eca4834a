export {
  type Admission,
  type AdmittedRecord,
  type Rejection,
  type RejectionCode,
  type SourceSubmission,
} from './admission';
export { bundledSources } from './bundled-sources';
export { eventBatchSchema, eventSubmissionSchema, type EventSubmission } from './event-submission';
export { pathBeyondDepth } from './json-depth';
export { eventIdOf, SourceCatalog, type SourceCatalogOptions, SourceDefinitionError } from './source-catalog';
export {
  sourceDefinitionSchema,
  type SourceDefinition,
  type SourceDefinitionInput,
} from './source-definition';
