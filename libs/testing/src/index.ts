export { sampleEvent, validTopicData } from './fixtures/topic-samples';
export { startTsProcess, type TestProcess } from './child-process';
export { FaultProxy } from './fault-proxy';
export {
  isTopicOfRun,
  testDatabaseUrl,
  testKafkaBrokers,
  testRunId,
  testTopicScope,
} from './test-environment';
export {
  dropSchema,
  isolatedTopic,
  replicaDataSource,
  schemaDataSource,
  testKafka,
  uniqueName,
  waitFor,
} from './test-infrastructure';
export { recordEffects, sequencedCaseEvent } from './fixtures/case-effects';
export { effectsTableMigration } from './fixtures/effects-table.migration';
export { scratchDatabase, type ScratchDatabase } from './scratch-database';
export { readTopic, recordHeader } from './read-topic';
export { recordsOnTopic, withKafkaAdmin } from './kafka-admin';
export {
  messagingTestBed,
  type EffectsConsumerProcess,
  type MessagingTestBed,
  type MessagingTestBedOptions,
  type TestConsumerOptions,
} from './messaging-test-bed';
export { serviceAppContract, type ServiceAppContractOptions } from './service-app.contract';
export { startServiceUnderTest, testAccessSharedKey, type ServiceUnderTest } from './service-under-test';
export { silentLogger } from './silent-logger';
export { testAccessEnv, testTokens } from './access-tokens';
export { registeredRoutes } from './registered-routes';
export { freePort } from './free-port';
export { metricSum } from './metrics-text';
export { callJson, type JsonAnswer, type JsonRequest } from './json-api';
export { deleteNamespaceTopics } from './namespace-topics';
