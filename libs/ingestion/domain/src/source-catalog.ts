import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex } from '@noble/hashes/utils';
import {
  type CaseEvent,
  caseEventSchema,
  ContractViolationError,
  type KnowledgeDocument,
  knowledgeDocumentSchema,
  type Violation,
} from '@keel/contracts';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import jsonata from 'jsonata';
import type { z } from 'zod';
import { type Admission, rejected, type SourceSubmission } from './admission';
import { pathBeyondDepth } from './json-depth';
import {
  type CaseEventMapping,
  type KnowledgeDocumentMapping,
  type SourceDefinition,
  sourceDefinitionSchema,
} from './source-definition';

export interface SourceCatalogOptions {
  /** Deepest nesting a payload may have (its top level is 1). */
  readonly maxPayloadDepth: number;
}

interface CompiledSource {
  readonly definition: SourceDefinition;
  readonly validate: ValidateFunction;
  readonly expressions: ReadonlyMap<string, jsonata.Expression>;
}

/** Thrown at boot for a source definition that cannot be used; names the definition and the fault. */
export class SourceDefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourceDefinitionError';
  }
}

/**
 * The source schemas ingestion knows, compiled once: admits a submission (schema, version and event type
 * known, payload valid and not too deep, mapping yields a valid case event or document) or rejects it with
 * every violation named.
 */
export class SourceCatalog {
  private readonly sources = new Map<string, Map<number, CompiledSource>>();

  constructor(
    /** Source definitions as data (parsed files, registry artifacts); each is validated here. */
    definitions: readonly unknown[],
    private readonly options: SourceCatalogOptions,
  ) {
    const ajv = new Ajv({ allErrors: true, strict: true });
    addFormats(ajv);
    for (const input of definitions) {
      const definition = parseDefinition(input);
      const versions = this.sources.get(definition.system) ?? new Map<number, CompiledSource>();
      if (versions.has(definition.version))
        throw new SourceDefinitionError(`${definition.system}@${definition.version} is defined twice`);
      versions.set(definition.version, compile(ajv, definition));
      this.sources.set(definition.system, versions);
    }
  }

  /** Every system with its schema versions, oldest first. */
  list(): Array<{ system: string; versions: number[]; eventTypes: Record<number, string[]> }> {
    return [...this.sources].map(([system, versions]) => ({
      system,
      versions: [...versions.keys()].sort((a, b) => a - b),
      eventTypes: Object.fromEntries(
        [...versions].map(([version, source]) => [version, [...source.definition.eventTypes]]),
      ),
    }));
  }

  async admit(submission: SourceSubmission): Promise<Admission> {
    const versions = this.sources.get(submission.system);
    if (!versions) {
      return rejected('unknown-source', `no source schema for system '${submission.system}'`, [
        { path: 'system', message: `unknown system; known: ${[...this.sources.keys()].join(', ')}` },
      ]);
    }
    const source = versions.get(submission.schemaVersion);
    if (!source) {
      return rejected(
        'unknown-schema-version',
        `${submission.system} has no schema version ${submission.schemaVersion}`,
        [{ path: 'schemaVersion', message: `unknown version; known: ${[...versions.keys()].join(', ')}` }],
      );
    }
    const { definition } = source;
    if (!definition.eventTypes.includes(submission.eventType)) {
      return rejected(
        'unknown-event-type',
        `${definition.system}@${definition.version} does not send '${submission.eventType}'`,
        [{ path: 'eventType', message: `expected one of ${definition.eventTypes.join(', ')}` }],
      );
    }
    const tooDeep = pathBeyondDepth(submission.payload, this.options.maxPayloadDepth);
    if (tooDeep !== undefined) {
      return rejected('payload-too-deep', `payload nests deeper than ${this.options.maxPayloadDepth}`, [
        { path: `payload.${tooDeep}`.replace(/\.\(root\)$/, ''), message: 'nested too deep' },
      ]);
    }
    if (!source.validate(submission.payload)) {
      const violations = (source.validate.errors ?? []).map(violationOf);
      return rejected(
        'invalid-payload',
        `payload does not satisfy ${definition.system}@${definition.version}`,
        violations,
      );
    }
    return definition.mapping.target === 'case-event'
      ? this.admitCaseEvent(source, definition.mapping, submission)
      : this.admitDocument(source, definition.mapping, submission);
  }

  private async admitCaseEvent(
    source: CompiledSource,
    mapping: CaseEventMapping,
    submission: SourceSubmission,
  ): Promise<Admission> {
    const mapped = await evaluateAll(source, submission, {
      caseId: mapping.caseId,
      eventId: mapping.eventId,
      occurredAt: mapping.occurredAt,
      attributes: mapping.attributes,
      eventType: mapping.eventType,
    });
    if ('violations' in mapped) return unmappable(source, mapped.violations);
    const draft = {
      caseId: mapped.values.caseId,
      caseType: mapping.caseType,
      eventType: mapped.values.eventType,
      occurredAt: mapped.values.occurredAt,
      source: {
        system: submission.system,
        eventId: mapped.values.eventId,
        schemaVersion: submission.schemaVersion,
      },
      attributes: mapped.values.attributes,
    };
    const data = checked(caseEventSchema, draft);
    if ('violations' in data) return unmappable(source, data.violations);
    const event: CaseEvent = data.value;
    return {
      outcome: 'admitted',
      record: {
        topic: 'caseEvents',
        subject: event.caseId,
        idempotencyKey: idempotencyKeyOf(submission, event.source.eventId),
        type: `keel.case.${event.caseType}`,
        data: event,
      },
    };
  }

  private async admitDocument(
    source: CompiledSource,
    mapping: KnowledgeDocumentMapping,
    submission: SourceSubmission,
  ): Promise<Admission> {
    const mapped = await evaluateAll(source, submission, {
      documentId: mapping.documentId,
      version: mapping.version,
      title: mapping.title,
      content: mapping.content,
      mediaType: mapping.mediaType,
      tags: mapping.tags,
    });
    if ('violations' in mapped) return unmappable(source, mapped.violations);
    const content = mapped.values.content;
    const draft = {
      ...mapped.values,
      contentHash: typeof content === 'string' ? sha256Hex(content) : undefined,
    };
    const data = checked(knowledgeDocumentSchema, draft);
    if ('violations' in data) return unmappable(source, data.violations);
    const document: KnowledgeDocument = data.value;
    return {
      outcome: 'admitted',
      record: {
        topic: 'knowledgeDocuments',
        subject: document.documentId,
        idempotencyKey: idempotencyKeyOf(submission, `${document.documentId}@${document.version}`),
        type: 'keel.knowledge.document',
        data: document,
      },
    };
  }
}

/** The CloudEvents id of an admitted record: derived from its idempotency key, so a resend carries the same id. */
export function eventIdOf(idempotencyKey: string): string {
  return sha256Hex(idempotencyKey);
}

function idempotencyKeyOf(submission: SourceSubmission, sourceEventId: string): string {
  return `${submission.tenant}/${submission.system}/${sourceEventId}`;
}

// A pure-JS digest: the domain lib stays free of Node built-ins.
function sha256Hex(text: string): string {
  return bytesToHex(sha256(text));
}

function parseDefinition(input: unknown): SourceDefinition {
  const parsed = sourceDefinitionSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const { system, version } = (typeof input === 'object' && input ? input : {}) as Record<string, unknown>;
  const name = `${String(system)}@${String(version)}`;
  throw new SourceDefinitionError(
    ContractViolationError.fromZod(`source definition ${name}`, parsed.error).message,
  );
}

function compile(ajv: Ajv, definition: SourceDefinition): CompiledSource {
  const name = `${definition.system}@${definition.version}`;
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(definition.payloadSchema);
  } catch (error) {
    throw new SourceDefinitionError(`${name}: payloadSchema is not a usable JSON Schema: ${String(error)}`);
  }
  const expressions = new Map<string, jsonata.Expression>();
  for (const [field, source] of Object.entries(definition.mapping)) {
    if (field === 'target' || field === 'caseType') continue;
    try {
      expressions.set(field, jsonata(source));
    } catch (error) {
      throw new SourceDefinitionError(`${name}: mapping.${field} is not JSONata: ${jsonataMessage(error)}`);
    }
  }
  return { definition, validate, expressions };
}

type Evaluated<Fields extends string> =
  { readonly values: Record<Fields, unknown> } | { readonly violations: readonly Violation[] };

async function evaluateAll<Fields extends string>(
  source: CompiledSource,
  submission: SourceSubmission,
  fields: Record<Fields, string>,
): Promise<Evaluated<Fields>> {
  const values = {} as Record<Fields, unknown>;
  const violations: Violation[] = [];
  for (const field of Object.keys(fields) as Fields[]) {
    const expression = source.expressions.get(field);
    if (!expression) throw new Error(`mapping.${field} was not compiled`);
    try {
      // JSONata answers sequences as arrays with extra properties; the contracts want plain JSON.
      const value: unknown = await expression.evaluate(submission.payload, {
        eventType: submission.eventType,
        system: submission.system,
        tenant: submission.tenant,
      });
      values[field] = value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as unknown);
    } catch (error) {
      violations.push({ path: `mapping.${field}`, message: jsonataMessage(error) });
    }
  }
  return violations.length > 0 ? { violations } : { values };
}

function checked<Schema extends z.ZodType>(
  schema: Schema,
  value: unknown,
): { value: z.infer<Schema> } | { violations: readonly Violation[] } {
  const parsed = schema.safeParse(value);
  if (parsed.success) return { value: parsed.data };
  return { violations: ContractViolationError.fromZod('mapped', parsed.error, 'mapped').violations };
}

function unmappable(source: CompiledSource, violations: readonly Violation[]): Admission {
  const { system, version } = source.definition;
  return rejected(
    'unmappable',
    `payload satisfies ${system}@${version} but does not map onto its topic`,
    violations,
  );
}

/** `payload.lines.0.sku: must have required property` — the field itself, not just its parent. */
function violationOf(error: ErrorObject): Violation {
  const segments = error.instancePath
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
  const params = error.params as { missingProperty?: string; additionalProperty?: string };
  const field = params.missingProperty ?? params.additionalProperty;
  if (field !== undefined) segments.push(field);
  return { path: ['payload', ...segments].join('.'), message: error.message ?? error.keyword };
}

function jsonataMessage(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'message' in error) return String(error.message);
  return String(error);
}
