import { z } from 'zod';

// W3C trace context: version-traceid-parentid-flags.
const traceparentPattern = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * CloudEvents 1.0 context attributes used by Keel, including its extensions. Extension names are
 * lower-case alphanumerics, as the CloudEvents spec requires, so they map 1:1 onto `ce_*` Kafka headers.
 */
export const cloudEventAttributesSchema = z.object({
  specversion: z.literal('1.0'),
  id: z.string().min(1).max(200),
  source: z.string().min(1).max(500),
  type: z
    .string()
    .regex(/^[a-z][a-z0-9]*(\.[a-z][a-z0-9_-]*)+$/, 'expected a dotted type such as keel.order.received'),
  time: z.iso.datetime({ offset: true }),
  subject: z.string().min(1).max(200),
  dataschema: z.string().regex(/^[a-z][a-z0-9._-]*@[1-9][0-9]*$/, 'expected <schema>@<version>'),
  datacontenttype: z.literal('application/json'),
  tenant: z.string().min(1).max(100),
  correlationid: z.string().min(1).max(200),
  causationid: z.string().min(1).max(200).optional(),
  traceparent: z.string().regex(traceparentPattern, 'expected a W3C traceparent').optional(),
  idempotencykey: z.string().min(1).max(300),
});

export type CloudEventAttributes = z.infer<typeof cloudEventAttributesSchema>;

/** A Keel event: CloudEvents attributes plus its JSON data. `subject` is the case id and the Kafka key. */
export type CloudEvent<Data = unknown> = CloudEventAttributes & { readonly data: Data };
