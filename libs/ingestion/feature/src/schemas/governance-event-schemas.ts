import type { GovernanceArtifacts } from '@keel/releases';
import { z } from 'zod';

/** One registry version of an `event-schema` artifact, as governance serves it. */
export interface RegistryEventSchema {
  readonly name: string;
  readonly version: number;
  readonly contentHash: string;
  readonly content: unknown;
}

/** Governance's registry as ingestion reads it: the event-schema artifacts and their versions. */
export interface EventSchemaRegistry {
  /** Each `event-schema` artifact's name with its newest registry version. */
  newest(): Promise<ReadonlyArray<{ readonly name: string; readonly version: number }>>;
  /** Every version of one artifact, oldest first. */
  versions(name: string): Promise<RegistryEventSchema[]>;
}

const summariesSchema = z.array(
  z.looseObject({ kind: z.string(), name: z.string(), latestVersion: z.number().int().min(1) }),
);
const versionsSchema = z.array(
  z.looseObject({
    name: z.string(),
    version: z.number().int().min(1),
    contentHash: z.string(),
    content: z.unknown(),
  }),
);

/**
 * The registry over governance's API (`GET /v1/artifacts`, `GET /v1/artifacts/event-schema/:name/versions`)
 * with the machine token `libs/releases` mints from the service's API key: one client, one way to call it.
 */
export class GovernanceEventSchemas implements EventSchemaRegistry {
  constructor(private readonly governance: Pick<GovernanceArtifacts, 'read'>) {}

  async newest(): Promise<Array<{ name: string; version: number }>> {
    const summaries = summariesSchema.parse(await this.governance.read('/v1/artifacts'));
    return summaries
      .filter((summary) => summary.kind === 'event-schema')
      .map(({ name, latestVersion }) => ({ name, version: latestVersion }));
  }

  async versions(name: string): Promise<RegistryEventSchema[]> {
    const path = `/v1/artifacts/event-schema/${encodeURIComponent(name)}/versions`;
    return versionsSchema
      .parse(await this.governance.read(path))
      .map(({ name: artifact, version, contentHash, content }) => ({
        name: artifact,
        version,
        contentHash,
        content,
      }));
  }
}
