import exceptionFeedV1 from './sources/exception-feed.v1.json';
import knowledgeBaseV1 from './sources/knowledge-base.v1.json';
import orderSystemV1 from './sources/order-system.v1.json';
import orderSystemV2 from './sources/order-system.v2.json';
import supportDeskV1 from './sources/support-desk.v1.json';

/**
 * The sample sources of the three use cases — order system (order routing, v1 and v2), exception feed
 * (exception handling), support desk (support routing) — and the knowledge base feeding retrieval.
 */
export const bundledSources: readonly unknown[] = [
  orderSystemV1,
  orderSystemV2,
  exceptionFeedV1,
  supportDeskV1,
  knowledgeBaseV1,
];
