// Claims: what clients send to claim or validate a code, and what agents read back.
//   claim     — a successful redemption and the outcome it issued (points, issued offers, tags)
//   attempt   — every claim or validate request, with its reason when it failed
//   reversal  — the undo of a claim: points debited, offers revoked, tags the claim added
//               removed, the code freed or the use given back
//   verdict   — what a claim by a customer would return right now, without doing it
import { Type, type Static } from '@sinclair/typebox';
import { CustomerId } from '../customers/customers.schema';
import type { ErrorCode } from '../http/error-codes';
import { Nullable, NullableTimestamp, PageQuery, Timestamp } from '../http/schemas';

/** The codes a claim or validation may be refused with, in the order of the checks (docs/product.md). */
export const CLAIM_REFUSALS = [
  'customer_not_found',
  'customer_blocked',
  'customer_locked_out',
  'code_not_found',
  'list_not_started',
  'list_ended',
  'list_cap_reached',
  'code_cancelled',
  'code_already_claimed',
  'already_claimed_by_customer',
  'customer_limit_reached',
] as const satisfies readonly ErrorCode[];
export type ClaimRefusal = (typeof CLAIM_REFUSALS)[number];

export const ClaimBody = Type.Object(
  {
    code: Type.String({
      minLength: 1,
      maxLength: 128,
      pattern: '^[^\\u0000]*$',
      description: 'as the customer typed it; matched in normalized form',
      examples: ['sum-k7px m2qd'],
    }),
    customer_id: CustomerId,
  },
  { additionalProperties: false, examples: [{ code: 'sum-k7px m2qd', customer_id: 'c-1042' }] },
);
export type ClaimBody = Static<typeof ClaimBody>;

const Points = Type.Object({ amount: Type.Integer(), account: Type.String(), source: Type.String() });

export const ClaimOutcome = Type.Object({
  points: Type.Optional(Points),
  offers: Type.Optional(Type.Array(Type.String(), { description: 'issued offer ids' })),
  tags: Type.Optional(Type.Array(Type.String())),
});

export const Claim = Type.Object({
  id: Type.String(),
  code: Type.String({ description: 'normalized' }),
  list_id: Type.String(),
  customer_id: Type.String(),
  claimed_at: Timestamp,
  outcome: ClaimOutcome,
});

export const ClaimResponse = Type.Object(
  { claim: Claim },
  {
    examples: [
      {
        claim: {
          id: '9001',
          code: 'SUMK7PXM2QD',
          list_id: '42',
          customer_id: 'c-1042',
          claimed_at: '2026-12-04T09:30:00.000Z',
          outcome: {
            points: { amount: 500, account: 'spendable', source: 'promo' },
            offers: ['1733'],
            tags: ['summer-2026'],
          },
        },
      },
    ],
  },
);

export const ValidateResponse = Type.Object({
  valid: Type.Literal(true),
  code: Type.String({ description: 'normalized' }),
  list_id: Type.String(),
  customer_id: Type.String(),
  outcome: Type.Object(
    {
      points: Type.Optional(Points),
      offers: Type.Optional(Type.Array(Type.String(), { description: 'offer ids a claim would issue' })),
      tags: Type.Optional(Type.Array(Type.String())),
    },
    { description: 'what a claim would issue now' },
  ),
});

export const ClaimRecord = Type.Object({
  id: Type.String(),
  code: Type.String(),
  list_id: Type.String(),
  list_name: Type.String(),
  list_type: Type.String(),
  customer_id: Type.String(),
  claimed_at: Timestamp,
  outcome: ClaimOutcome,
  reversed: Type.Boolean(),
  reversed_at: NullableTimestamp,
  reversal_reason: Nullable(Type.String()),
  reversed_by: Nullable(Type.String()),
});
export type ClaimRecord = Static<typeof ClaimRecord>;

export const ReasonBody = Type.Object(
  {
    reason: Type.String({
      minLength: 1,
      maxLength: 500,
      pattern: '^[^\\u0000]*$',
      examples: ['customer returned the order'],
    }),
  },
  { additionalProperties: false },
);

export const Attempt = Type.Object({
  id: Type.String(),
  kind: Type.Union([Type.Literal('claim'), Type.Literal('validate')]),
  code: Type.String({ description: 'normalized, as tried' }),
  customer_id: Type.String(),
  list_id: Nullable(Type.String()),
  result: Type.Union([Type.Literal('succeeded'), Type.Literal('failed')]),
  reason: Nullable(Type.String({ description: 'the error code of a failed attempt' })),
  claim_id: Nullable(Type.String()),
  at: Timestamp,
});

export const CustomerClaimsQuery = Type.Object({ ...PageQuery }, { additionalProperties: false });
export const AttemptsQuery = Type.Object(
  { result: Type.Optional(Type.Union([Type.Literal('succeeded'), Type.Literal('failed')])), ...PageQuery },
  { additionalProperties: false },
);
