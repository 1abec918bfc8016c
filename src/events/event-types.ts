// Every event type the service tells of, the one list: endpoints subscribe to them
// (src/webhooks) and the outbox records them (src/events/events.ts).
export const EVENT_TYPES = [
  'claim.created',
  'claim.reversed',
  'code.cancelled',
  'list.created',
  'list.updated',
  'list.completed',
  'list.low',
  'batch.completed',
  'batch.failed',
  'import.completed',
  'import.failed',
  'customer.locked_out',
  'customer.blocked',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];
