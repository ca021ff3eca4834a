import { startTracing } from '@keel/tracing';

// Before anything else loads: the instrumentations patch http, fetch and kafkajs as they are first required.
startTracing('retrieval');
