// Customers: registered by a client under the client's own id, then credited by claims.
//   profile       — the customer row plus what claims gave them: point balances by account,
//                   issued offers that are still live, and tags.
//   blocked       — an agent has stopped the customer from claiming (claims answer
//                   customer_blocked) until an agent unblocks them.
//   locked_out    — too many unknown codes in a short time; set by the claims feature.
import { Type, type Static } from '@sinclair/typebox';
import { Nullable, NullableTimestamp, Timestamp } from '../http/schemas';
import { NAME_MAX } from '../http/limits';

/**
 * The client's own customer id. Anything printable up to 128 characters, except whitespace,
 * control characters and the URL delimiters / ? #, so an id is always one path segment.
 */
export const CustomerId = Type.String({
  minLength: 1,
  maxLength: 128,
  pattern: '^[^\\s\\u0000-\\u001f\\u007f-\\u009f/?#]+$',
  description: "the client's own customer id: 1–128 characters, no whitespace, control characters, / ? or #",
  examples: ['c-1042'],
});

// PostgreSQL text cannot hold NUL; refusing it here keeps such input a 400, not a 500.
const NO_NUL = '^[^\\u0000]*$';

export const CustomerParams = Type.Object({ id: CustomerId }, { additionalProperties: false });

export const UpsertCustomerBody = Type.Object(
  {
    email: Type.Optional(Nullable(Type.String({ format: 'email', maxLength: 320, examples: ['ana@example.com'] }))),
    name: Type.Optional(Nullable(Type.String({ maxLength: NAME_MAX, pattern: NO_NUL, examples: ['Ana Silva'] }))),
  },
  { additionalProperties: false, description: 'a field left out keeps its current value; null clears it' },
);

export const BlockCustomerBody = Type.Object(
  { reason: Type.Optional(Type.String({ maxLength: 500, pattern: NO_NUL, examples: ['shared codes on a forum'] })) },
  { additionalProperties: false, description: 'optional; the request may have no body at all' },
);
export const UnblockCustomerBody = Type.Object(
  {},
  { additionalProperties: false, description: 'optional; the request may have no body at all' },
);

const PointBalance = Type.Object({
  account: Type.String({ description: 'point account key' }),
  balance: Type.Integer({ description: "sum of the customer's ledger entries for the account" }),
});

const IssuedOffer = Type.Object({
  id: Type.String({ description: 'issued offer id' }),
  offer_id: Type.String(),
  name: Type.String({ description: "the offer's name in the catalog" }),
  claim_id: Nullable(Type.String()),
  issued_at: Timestamp,
});

export const CustomerProfile = Type.Object(
  {
    id: CustomerId,
    email: Nullable(Type.String()),
    name: Nullable(Type.String()),
    blocked: Type.Boolean(),
    blocked_at: NullableTimestamp,
    blocked_reason: Nullable(Type.String()),
    locked_out_until: NullableTimestamp,
    points: Type.Array(PointBalance, { description: 'balances of the accounts the customer has ledger entries in' }),
    offers: Type.Array(IssuedOffer, { description: 'issued offers not revoked, oldest first' }),
    tags: Type.Array(Type.String(), { description: 'sorted' }),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { $id: 'CustomerProfile' },
);

export type UpsertCustomer = Static<typeof UpsertCustomerBody>;
export type BlockCustomer = Static<typeof BlockCustomerBody>;
