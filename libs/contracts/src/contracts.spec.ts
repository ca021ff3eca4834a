import {
  ContractViolationError,
  allTopics,
  decodeEvent,
  encodeEvent,
  fromKafkaRecord,
  namespacedTopics,
  topics,
  type TopicKey,
} from '@keel/contracts';
import { sampleEvent, validTopicData } from '@keel/testing';

function violationsOf(action: () => unknown): string[] {
  try {
    action();
  } catch (error) {
    if (error instanceof ContractViolationError)
      return error.violations.map((v) => `${v.path}: ${v.message}`);
    throw error;
  }
  throw new Error('expected a contract violation');
}

const topicKeys = Object.keys(topics) as TopicKey[];

describe('topic registry', () => {
  it('names each topic once, versioned, keyed by case id, with partitions', () => {
    const names = allTopics.map((topic) => topic.name);
    expect(new Set(names).size).toBe(names.length);
    for (const topic of allTopics) {
      expect(topic.name).toMatch(/^keel\.[a-z.]+\.v\d+$/);
      expect(topic.key).toBe('caseId');
      expect(topic.partitions).toBeGreaterThan(0);
      expect(topic.dataschema).toMatch(/@\d+$/);
    }
  });
});

describe('namespacedTopics', () => {
  it('prefixes every topic name and keeps schemas and partitions', () => {
    const scoped = namespacedTopics('e2e_1');
    expect(scoped.decisions.name).toBe('e2e_1.keel.decisions.v1');
    expect(scoped.decisions.schema).toBe(topics.decisions.schema);
    expect(scoped.decisions.partitions).toBe(topics.decisions.partitions);
    expect(namespacedTopics('')).toBe(topics);
  });

  it('rejects a namespace that would make an invalid topic name', () => {
    expect(() => namespacedTopics('a b')).toThrow(/invalid topic namespace/);
  });
});

describe.each(topicKeys)('%s schema', (key) => {
  const topic = topics[key];

  it('accepts its valid sample through an encode/decode round trip', () => {
    const event = sampleEvent(topic, validTopicData[key]);
    const decoded = decodeEvent(topic, encodeEvent(topic, event));
    expect(decoded).toEqual(event);
  });

  it('rejects a malformed record naming the path and reason of every violation', () => {
    const event = sampleEvent(topic, validTopicData[key]);
    const record = encodeEvent(topic, event);
    const broken = {
      ...record,
      value: Buffer.from(JSON.stringify({ ...(event.data as object), ...breakData(key) })),
    };
    const violations = violationsOf(() => decodeEvent(topic, broken));
    expect(violations.length).toBeGreaterThanOrEqual(1);
    for (const violation of violations) expect(violation).toMatch(/^data\.[\w.]+: .+/);
  });

  it('rejects data that is not an object', () => {
    const record = encodeEvent(topic, sampleEvent(topic, validTopicData[key]));
    expect(violationsOf(() => decodeEvent(topic, { ...record, value: Buffer.from('42') }))[0]).toMatch(
      /^data: /,
    );
  });
});

// One wrong field per schema, chosen so the expected path is known.
function breakData(key: TopicKey): Record<string, unknown> {
  switch (key) {
    case 'sourceRaw':
      return { schemaVersion: 0 };
    case 'caseEvents':
      return { caseType: 'invoice', occurredAt: 'yesterday' };
    case 'knowledgeDocuments':
      return { contentHash: 'abc' };
    case 'decisions':
      return { confidence: 1.5, action: { tool: 'delete_everything', arguments: {} } };
    case 'workflowCommands':
      return { command: 'start', template: '' };
    case 'workflowEvents':
      return { sequence: -1 };
    case 'approvals':
      return { status: 'requested', dueAt: 'tomorrow' };
    case 'releases':
      return { action: 'deleted' };
    case 'supportNotifications':
      return { queue: '' };
  }
}

describe('decision schema', () => {
  it('reports every violation with its path', () => {
    const topic = topics.decisions;
    const record = encodeEvent(topic, sampleEvent(topic, validTopicData.decisions));
    const data = {
      ...(validTopicData.decisions as object),
      confidence: 1.5,
      action: { tool: 'delete_everything', arguments: {} },
    };
    const violations = violationsOf(() =>
      decodeEvent(topic, { ...record, value: Buffer.from(JSON.stringify(data)) }),
    );
    expect(violations).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^data\.confidence: /),
        expect.stringMatching(/^data\.action\.tool: /),
      ]),
    );
  });
});

describe('Kafka binary binding', () => {
  it('carries attributes as ce_ headers, content type, data as the JSON value and the case id as key', () => {
    const record = encodeEvent(topics.caseEvents, sampleEvent(topics.caseEvents, validTopicData.caseEvents));
    expect(record.key).toBe('case-1');
    expect(record.headers).toMatchObject({
      ce_id: 'evt-0001',
      ce_specversion: '1.0',
      ce_type: 'keel.test.sampled',
      ce_subject: 'case-1',
      ce_dataschema: 'keel.case.event@1',
      ce_tenant: 'acme',
      ce_traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      'content-type': 'application/json',
    });
    expect(JSON.parse(record.value.toString())).toEqual(validTopicData.caseEvents);
  });

  it('rejects an envelope with missing and malformed attributes, naming each', () => {
    const record = encodeEvent(topics.caseEvents, sampleEvent(topics.caseEvents, validTopicData.caseEvents));
    const headers = { ...record.headers, ce_time: 'noon', ce_traceparent: 'zz' } as Record<string, string>;
    delete headers.ce_id;
    const violations = violationsOf(() => fromKafkaRecord({ ...record, headers }));
    expect(violations).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^id: /),
        expect.stringMatching(/^time: /),
        expect.stringMatching(/^traceparent: expected a W3C traceparent/),
      ]),
    );
  });

  it('rejects a value that is not JSON', () => {
    const record = encodeEvent(topics.caseEvents, sampleEvent(topics.caseEvents, validTopicData.caseEvents));
    expect(violationsOf(() => fromKafkaRecord({ ...record, value: Buffer.from('{nope') }))[0]).toMatch(
      /^value: not JSON/,
    );
  });

  it('rejects an event whose dataschema belongs to another topic', () => {
    const record = encodeEvent(topics.caseEvents, sampleEvent(topics.caseEvents, validTopicData.caseEvents));
    expect(violationsOf(() => decodeEvent(topics.decisions, record))).toEqual(
      expect.arrayContaining([expect.stringMatching(/^dataschema: expected keel.decision@1/)]),
    );
  });
});
