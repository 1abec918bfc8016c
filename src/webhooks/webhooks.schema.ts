import { Type, type Static } from '@sinclair/typebox';
import { EVENT_TYPES } from '../events/event-types';
import { Description, NullableTimestamp, Nullable, NumericId, Timestamp } from '../http/schemas';

const Url = Type.String({
  minLength: 1,
  maxLength: 2048,
  description:
    'http or https, without credentials; every address its host resolves to must be public ' +
    '(not loopback, private, link-local, CGNAT or multicast) unless WEBHOOK_ALLOW_PRIVATE is set',
  examples: ['https://crm.example.com/hooks/promo-codes'],
});

const EventTypeName = Type.Union(
  EVENT_TYPES.map((name) => Type.Literal(name)),
  { description: 'an event type' },
);

export const Events = Type.Union(
  [
    Type.Array(EventTypeName, { minItems: 1, uniqueItems: true }),
    Type.Array(Type.Literal('*'), { minItems: 1, maxItems: 1, description: 'every event type, present and future' }),
  ],
  { description: 'the event types sent to the endpoint, or `["*"]` for all', examples: [['claim.created']] },
);

export const WebhookEndpoint = Type.Object(
  {
    id: Type.String(),
    url: Type.String(),
    events: Type.Array(Type.String()),
    description: Nullable(Type.String()),
    enabled: Type.Boolean(),
    secret_version: Type.Integer({ description: 'counts rotations; the secret is derived from it' }),
    secret_rotated_at: NullableTimestamp,
    previous_secret_expires_at: Type.Union([Timestamp, Type.Null()], {
      description: 'until when the secret before the last rotation still signs; null when it no longer does',
    }),
    disabled_at: NullableTimestamp,
    disabled_reason: Nullable(Type.String()),
    created_by: Nullable(Type.String()),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { $id: 'WebhookEndpoint' },
);

const Secret = Type.String({
  description:
    'the signing secret (Standard Webhooks, `whsec_` + base64); shown only in this response. ' +
    'Requests carry `webhook-id`, `webhook-timestamp` and `webhook-signature` headers.',
  examples: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw7gqZtT7ynYY='],
});

export const CreatedWebhookEndpoint = Type.Object({ ...WebhookEndpoint.properties, secret: Secret });

export const CreateWebhookEndpointBody = Type.Object(
  {
    url: Url,
    events: Events,
    description: Type.Optional(Description),
    enabled: Type.Optional(Type.Boolean({ default: true })),
  },
  {
    additionalProperties: false,
    examples: [
      {
        url: 'https://crm.example.com/hooks/promo-codes',
        events: ['claim.created', 'claim.reversed'],
        description: 'CRM points sync',
      },
      { url: 'https://ops.example.com/promo-events', events: ['*'] },
    ],
  },
);

export const UpdateWebhookEndpointBody = Type.Object(
  {
    url: Type.Optional(Url),
    events: Type.Optional(Events),
    description: Type.Optional(Description),
    enabled: Type.Optional(Type.Boolean()),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    description: 'at least one of url, events, description, enabled',
    examples: [{ enabled: false }, { events: ['list.low', 'list.completed'] }],
  },
);

export type CreateWebhookEndpoint = Static<typeof CreateWebhookEndpointBody>;
export type UpdateWebhookEndpoint = Static<typeof UpdateWebhookEndpointBody>;

export const WebhookDelivery = Type.Object(
  {
    id: Type.String(),
    event_id: Type.String({ description: "the event, as the body's `id` and the `webhook-id` header name it" }),
    event_type: Type.String(),
    attempts: Type.Integer(),
    last_status_code: Nullable(Type.Integer({ description: "the receiver's last answer; null when none came" })),
    last_latency_ms: Nullable(Type.Integer()),
    last_response_body: Nullable(Type.String({ description: 'the first KiB of the last answer' })),
    last_error: Nullable(Type.String()),
    next_retry_at: Type.Union([Timestamp, Type.Null()], {
      description: 'when delivery tries again; null: it does not',
    }),
    delivered_at: NullableTimestamp,
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { $id: 'WebhookDelivery' },
);

export const DeliveryParams = Type.Object({ id: NumericId, delivery_id: NumericId }, { additionalProperties: false });

export const WebhookTestResult = Type.Object({
  ok: Type.Boolean({ description: 'the receiver answered 2xx' }),
  status_code: Nullable(Type.Integer()),
  latency_ms: Type.Integer(),
  response_body: Nullable(Type.String({ description: 'the first KiB of the answer' })),
  error: Nullable(Type.String()),
});
