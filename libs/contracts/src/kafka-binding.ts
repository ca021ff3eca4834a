import { type CloudEvent, cloudEventAttributesSchema } from './cloud-event';
import { ContractViolationError, type Violation } from './contract-violation.error';

/** A Kafka record as the binding sees it; structurally compatible with kafkajs messages. */
export interface KafkaRecord {
  readonly key: Buffer | string | null;
  readonly value: Buffer | null;
  /** As kafkajs delivers them: a repeated header arrives as an array (the first value counts). */
  readonly headers: Record<string, Buffer | string | ReadonlyArray<Buffer | string> | undefined>;
}

/** A record as Keel produces it: string key and headers, JSON value. */
export interface EncodedRecord {
  readonly key: string;
  readonly value: Buffer;
  readonly headers: Record<string, string>;
}

const contentTypeHeader = 'content-type';
const headerPrefix = 'ce_';
// Built once: zod compiles a schema on its first parse, and `.strict()` makes a new schema each call.
const strictAttributesSchema = cloudEventAttributesSchema.strict();

/**
 * CloudEvents Kafka protocol binding, binary content mode: attributes travel as `ce_*` headers
 * (`datacontenttype` as `content-type`), the data as the JSON value, the subject (case id) as the key.
 */
export function toKafkaRecord(event: CloudEvent): EncodedRecord {
  const headers: Record<string, string> = {};
  const { data: _data, ...attributes } = event;
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined) continue;
    headers[name === 'datacontenttype' ? contentTypeHeader : `${headerPrefix}${name}`] = value;
  }
  return { key: event.subject, value: Buffer.from(JSON.stringify(event.data), 'utf8'), headers };
}

/**
 * Reads a binary-mode record back into an event. The attributes are validated here; the data is only
 * parsed as JSON — its schema belongs to the topic (see `decodeEvent`).
 */
export function fromKafkaRecord(record: KafkaRecord): CloudEvent<unknown> {
  const attributes: Record<string, string> = {};
  for (const [name, header] of Object.entries(record.headers)) {
    const raw = firstValue(header);
    if (raw === undefined) continue;
    const value = Buffer.isBuffer(raw) ? raw.toString('utf8') : raw;
    if (name === contentTypeHeader) attributes.datacontenttype = value;
    else if (name.startsWith(headerPrefix)) attributes[name.slice(headerPrefix.length)] = value;
  }
  const parsed = strictAttributesSchema.safeParse(attributes);
  const violations: Violation[] = parsed.success
    ? []
    : [...ContractViolationError.fromZod('envelope', parsed.error).violations];
  if (record.value === null) violations.push({ path: 'value', message: 'record has no value' });
  const data = record.value === null ? undefined : parseJson(record.value, violations);
  if (!parsed.success || violations.length > 0) throw new ContractViolationError('envelope', violations);
  return { ...parsed.data, data };
}

function firstValue(header: KafkaRecord['headers'][string]): Buffer | string | undefined {
  if (header === undefined || typeof header === 'string' || Buffer.isBuffer(header)) return header;
  return header[0];
}

function parseJson(value: Buffer, violations: Violation[]): unknown {
  try {
    return JSON.parse(value.toString('utf8')) as unknown;
  } catch (error) {
    violations.push({ path: 'value', message: `not JSON: ${(error as Error).message}` });
    return undefined;
  }
}
