import {
  EmbeddedVectorIndex,
  MiniLmEmbedder,
  OpenAiEmbedder,
  QdrantVectorStore,
  resolveMiniLmModel,
} from '@keel/retrieval-data-access';
import {
  defaultKnowledgeRetrieval,
  type DenseEmbedder,
  KnowledgeRetrieval,
  QueryEmbeddingCache,
  type VectorStore,
} from '@keel/retrieval-domain';
import { type DynamicModule, Inject, Injectable, Module, type OnApplicationBootstrap } from '@nestjs/common';
import { QdrantClient } from '@qdrant/js-client-rest';
import { DataSource } from 'typeorm';
import { ContextQueriesController, VECTOR_STORE } from './context-queries.controller';
import { DocumentRegistryRepository } from './document-registry.repository';
import { EmbeddedIndexRepository, PostgresEmbeddedIndexPersistence } from './embedded-index.repository';
import { KnowledgeInboxController } from './knowledge-inbox.controller';
import type { RetrievalConfig } from './retrieval.config';
import { PostgresVersionTransitions, VersionTransitionRepository } from './version-transition.repository';

export interface RetrievalFeatureOptions {
  readonly config: RetrievalConfig;
  /** The service's Postgres schema, where the document registry lives. */
  readonly schema: string;
  /** Repository root, where scripts/models/minilm.sh resolves the local model when no folder is configured. */
  readonly repositoryRoot: string;
}

const EMBEDDER = Symbol('keel.retrieval.embedder');

async function embedderOf({ config, repositoryRoot }: RetrievalFeatureOptions): Promise<DenseEmbedder> {
  switch (config.RETRIEVAL_EMBEDDER) {
    case 'minilm':
      return MiniLmEmbedder.load(config.RETRIEVAL_MINILM_DIR ?? resolveMiniLmModel(repositoryRoot));
    case 'openai':
      // The config refuses `openai` without these four.
      return new OpenAiEmbedder({
        baseURL: config.RETRIEVAL_EMBEDDINGS_BASE_URL as string,
        apiKey: config.RETRIEVAL_EMBEDDINGS_API_KEY as string,
        model: config.RETRIEVAL_EMBEDDINGS_MODEL as string,
        dimensions: config.RETRIEVAL_EMBEDDINGS_DIMENSIONS as number,
      });
  }
}

// Both stores keep their state in the service's schema: the embedded index its documents (rebuilt at boot),
// the Qdrant adapter its documents in transition (what every search filters by while a version is swapped).
function storeOf(
  { config, schema }: RetrievalFeatureOptions,
  embedder: DenseEmbedder,
  dataSource: DataSource,
): VectorStore {
  switch (config.RETRIEVAL_VECTOR_STORE) {
    case 'embedded':
      return new EmbeddedVectorIndex({
        persistence: new PostgresEmbeddedIndexPersistence(dataSource, new EmbeddedIndexRepository(schema)),
      });
    case 'qdrant':
      return new QdrantVectorStore(
        new QdrantClient({
          url: config.QDRANT_URL,
          apiKey: config.QDRANT_API_KEY,
          checkCompatibility: false,
        }),
        {
          collection: config.RETRIEVAL_QDRANT_COLLECTION,
          dimensions: embedder.dimensions,
          transitions: new PostgresVersionTransitions(dataSource, new VersionTransitionRepository(schema)),
        },
      );
  }
}

/**
 * Prepares the store before the inbox consumes: the embedded index is rebuilt from its rows, the Qdrant adapter
 * finishes the clean-ups a stopped process left.
 */
@Injectable()
class RetrievalStartup implements OnApplicationBootstrap {
  constructor(@Inject(VECTOR_STORE) private readonly store: VectorStore) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.store.prepare();
  }
}

/**
 * Retrieval's feature: the knowledge inbox (indexing), the context query API, the document registry, and
 * the configured vector store and embedder. Needs `PersistenceModule` and `MessagingModule` in the application.
 */
@Module({})
export class RetrievalFeatureModule {
  static forRoot(options: RetrievalFeatureOptions): DynamicModule {
    return {
      module: RetrievalFeatureModule,
      controllers: [KnowledgeInboxController, ContextQueriesController],
      providers: [
        { provide: EMBEDDER, useFactory: () => embedderOf(options) },
        {
          provide: VECTOR_STORE,
          inject: [EMBEDDER, DataSource],
          useFactory: (embedder: DenseEmbedder, dataSource: DataSource) =>
            storeOf(options, embedder, dataSource),
        },
        {
          provide: KnowledgeRetrieval,
          inject: [VECTOR_STORE, EMBEDDER],
          useFactory: (store: VectorStore, embedder: DenseEmbedder) =>
            new KnowledgeRetrieval(
              store,
              new QueryEmbeddingCache(embedder, options.config.RETRIEVAL_QUERY_CACHE_SIZE),
              {
                ...defaultKnowledgeRetrieval,
                prefetchLimit: options.config.RETRIEVAL_PREFETCH_LIMIT,
              },
            ),
        },
        { provide: DocumentRegistryRepository, useValue: new DocumentRegistryRepository(options.schema) },
        RetrievalStartup,
      ],
    };
  }
}
