// The outbox of events: each change a webhook will tell of is recorded as a row of `events`
// (migration 008) in the transaction that makes the change, so an event exists exactly when
// its change committed, and never for one that rolled back. Delivery reads them in (xid, id)
// order with events_after (events.functions.sql); it is not part of this module.
//
// An event is sent as {id, type, created_at, data}, `data` being the entity as the API returns
// it (GET of that entity), so a receiver needs no second shape. Two events are written in SQL,
// by the claim function (claims.functions.sql): claim.created and customer.locked_out; the
// others here, through recordEvent.
import type { Static } from '@sinclair/typebox';
import type { Tx } from '../db/pool';
import type { ClaimRecord } from '../claims/claims.schema';
import type { Batch } from '../codes/batches.schema';
import type { Import } from '../codes/imports.schema';
import type { CodeDetail } from '../codes/codes.routes';
import type { CustomerProfile } from '../customers/customers.schema';
import type { List } from '../lists/lists.schema';
import type { EventType } from './event-types';

/**
 * The types not written yet: list.completed and list.low (a list ended or capped, or running
 * out of codes) come with delivery, as a list also completes by the clock, with no transaction
 * to write the event in. Endpoints may subscribe to them already.
 */
export const NOT_YET_RECORDED = ['list.completed', 'list.low'] as const satisfies readonly EventType[];

/** What each event's `data` is: the API's shape of its entity. */
interface EventData {
  'claim.created': Static<typeof ClaimRecord>;
  'claim.reversed': Static<typeof ClaimRecord>;
  'code.cancelled': Static<typeof CodeDetail>;
  'list.created': Static<typeof List>;
  'list.updated': Static<typeof List>;
  'list.completed': Static<typeof List>;
  'list.low': Static<typeof List>;
  'customer.blocked': Static<typeof CustomerProfile>;
  'customer.locked_out': Static<typeof CustomerProfile>;
  'batch.completed': Static<typeof Batch>;
  'batch.failed': Static<typeof Batch>;
  'import.completed': Static<typeof Import>;
  'import.failed': Static<typeof Import>;
}

/**
 * Records an event in `tx`, the transaction of the change it tells of. `data` is serialized as
 * a response is (Dates as ISO 8601), so it must be the entity as its GET returns it. Returns
 * the event's id.
 */
export async function recordEvent<T extends EventType>(tx: Tx, type: T, data: EventData[T]): Promise<string> {
  const { rows } = await tx.query<{ id: string }>('SELECT record_event($1, $2::jsonb) AS id', [
    type,
    JSON.stringify(data),
  ]);
  return rows[0]!.id;
}
