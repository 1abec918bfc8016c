// The troubleshooting report: everything an agent needs to answer "my code doesn't work".
import { Type } from '@sinclair/typebox';
import { Attempt, CLAIM_REFUSALS, ClaimRecord, type ClaimRefusal } from '../claims/claims.schema';
import { CodeDetail } from '../codes/codes.routes';
import { CustomerId } from '../customers/customers.schema';
import { ErrorDetails, Nullable, NullableTimestamp, Timestamp } from '../http/schemas';
import { ClaimLimits } from '../settings/settings.schema';

export const TroubleshootQuery = Type.Object(
  {
    code: Type.Optional(
      Type.String({ minLength: 1, maxLength: 128, pattern: '^[^\\u0000]*$', examples: ['SUMK7PXM2QD'] }),
    ),
    customer_id: Type.Optional(CustomerId),
  },
  { additionalProperties: false, description: 'either or both' },
);

export const TroubleshootReport = Type.Object({
  query: Type.Object({
    code: Nullable(Type.String()),
    normalized_code: Nullable(Type.String()),
    customer_id: Nullable(Type.String()),
  }),
  code: Type.Union(
    [
      Type.Object({
        ...CodeDetail.properties,
        list: Type.Object({
          ...CodeDetail.properties.list.properties,
          why: Type.String({ description: 'the list status, explained' }),
        }),
      }),
      Type.Null(),
    ],
    { description: 'null when no code was given or it does not exist' },
  ),
  customer: Nullable(
    Type.Object({
      id: Type.String(),
      registered: Type.Boolean(),
      blocked: Type.Boolean(),
      blocked_at: NullableTimestamp,
      blocked_reason: Nullable(Type.String()),
      locked_out_until: NullableTimestamp,
      unknown_codes_in_window: Type.Integer({ description: 'code_not_found attempts counting towards a lockout' }),
      lockout_threshold: Type.Integer(),
      claims: Type.Object(
        { week: Type.Integer(), month: Type.Integer(), year: Type.Integer() },
        { description: 'live claims in the rolling periods' },
      ),
      limits: ClaimLimits,
    }),
  ),
  verdict: Nullable(
    Type.Object(
      {
        would_succeed: Type.Boolean(),
        status: Type.Integer({ description: 'the HTTP status a claim would get' }),
        error: Nullable(
          Type.Unsafe<ClaimRefusal>({
            type: 'string',
            enum: [...CLAIM_REFUSALS].sort(),
            description: 'the error code a claim would get',
          }),
        ),
        message: Type.String(),
        details: Nullable(Type.Ref(ErrorDetails)),
      },
      {
        description:
          'what POST /v1/claims by this customer with this code would return now; needs both code and customer_id',
      },
    ),
  ),
  attempts: Type.Array(Attempt),
  claims: Type.Array(ClaimRecord),
  audit: Type.Array(
    Type.Object({
      id: Type.String(),
      actor: Type.String(),
      action: Type.String(),
      entity_type: Type.String(),
      entity_id: Type.String(),
      before: Type.Unknown(),
      after: Type.Unknown(),
      created_at: Timestamp,
    }),
  ),
  timeline: Type.Array(
    Type.Object({
      at: Timestamp,
      type: Type.String(),
      summary: Type.String(),
      ref: Type.Optional(Type.Record(Type.String(), Nullable(Type.String()))),
    }),
    { description: 'everything above, oldest first' },
  ),
});
