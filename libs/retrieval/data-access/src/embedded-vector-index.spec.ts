import { EmbeddedVectorIndex } from './embedded-vector-index';
import { describeVectorStoreContract } from './vector-store.contract';

describeVectorStoreContract('the embedded vector index', () =>
  Promise.resolve({ store: new EmbeddedVectorIndex(), close: () => Promise.resolve() }),
);
