// Schemas shared by every feature: the error shape, pages, ids and timestamps.
import { Type, type TSchema } from '@sinclair/typebox';
import { meaningOf, messageOf, statusOf, type ErrorCode } from './error-codes';
import { DESCRIPTION_MAX, NAME_MAX } from './limits';

/** What an error may say beyond its message: one shape for every code. */
export const ErrorDetails = Type.Object(
  {
    fields: Type.Optional(
      Type.Array(
        Type.Object({
          path: Type.String({ examples: ['body.count'] }),
          message: Type.String({ examples: ['must be >= 1'] }),
        }),
        {
          description: 'the values at fault (validation_failed and other refusals of a value)',
        },
      ),
    ),
    list_id: Type.Optional(Type.String({ description: "the code's list (claim refusals from the list checks on)" })),
    locked_until: Type.Optional(
      Type.String({ format: 'date-time', description: 'when the lockout ends (customer_locked_out)' }),
    ),
    period: Type.Optional(
      Type.String({ enum: ['week', 'month', 'year'], description: 'the limit reached (customer_limit_reached)' }),
    ),
    limit: Type.Optional(Type.Integer({ description: 'claims allowed in that period (customer_limit_reached)' })),
    max_count: Type.Optional(Type.Integer({ description: 'the most codes that still fit (code_space_too_small)' })),
    possible_codes: Type.Optional(
      Type.String({ description: "the format's possible codes, as a decimal string (code_space_too_small)" }),
    ),
  },
  {
    $id: 'ErrorDetails',
    additionalProperties: false,
    description: 'Present when the error has more to say than its message',
  },
);

/** An error answer whose `code` is one of `codes` (all of one status). */
export function errorSchema(codes: readonly ErrorCode[]) {
  const sorted = [...new Set(codes)].sort();
  return Type.Object(
    {
      error: Type.Object({
        code: Type.Unsafe<ErrorCode>({ type: 'string', enum: sorted }),
        message: Type.String({ examples: [messageOf(sorted[0]!)] }),
        details: Type.Optional(Type.Ref(ErrorDetails)),
      }),
    },
    { description: sorted.map((code) => `\`${code}\`: ${meaningOf(code)}`).join('; ') },
  );
}

/** The codes of an error answer made by `errorSchema`, or null for another schema. */
export function codesOf(schema: unknown): ErrorCode[] | null {
  const code = (schema as { properties?: { error?: { properties?: { code?: { enum?: ErrorCode[] } } } } } | null)
    ?.properties?.error?.properties?.code;
  return code?.enum ?? null;
}

/**
 * A route's error answers by status, each with the codes it may carry. The errors every route
 * shares (authentication, validation, the database, Idempotency-Key) are added to each route
 * by `registerErrorContract` (http/openapi.ts); list only the route's own.
 */
export function errorResponses(...codes: ErrorCode[]) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(statusOf(code), [...(byStatus.get(statusOf(code)) ?? []), code]);
  return Object.fromEntries([...byStatus].map(([status, of]) => [status, errorSchema(of)]));
}

/** A timestamp in a response: the handler returns a Date, the serializer writes ISO 8601 UTC. */
export const Timestamp = Type.Unsafe<Date | string>({ type: 'string', format: 'date-time' });
export const NullableTimestamp = Type.Unsafe<Date | string | null>({ type: ['string', 'null'], format: 'date-time' });
/** A timestamp a client sends: ISO 8601 with a time zone, read by http/timestamps.ts. */
export const TimestampInput = Type.String({
  format: 'date-time',
  description:
    'ISO 8601 with time zone, e.g. 2026-01-31T09:00:00Z; a real date in the years 1970–9999, no leap second (:60)',
});
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** A name a person gives (a list, batch, import, offer, key, operator). */
export const Name = Type.String({ minLength: 1, maxLength: NAME_MAX });
/** A description a person writes; null for none. */
export const Description = Nullable(Type.String({ maxLength: DESCRIPTION_MAX }));

/** A row's id (bigint), as text. */
export const NumericId = Type.String({ pattern: '^[1-9][0-9]{0,17}$', description: 'numeric id', examples: ['42'] });

export const IdParams = Type.Object({ id: NumericId }, { additionalProperties: false });

/** Items per page when a request names no `limit`. */
const DEFAULT_PAGE_SIZE = 100;

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: DEFAULT_PAGE_SIZE })),
  cursor: Type.Optional(Type.String({ maxLength: 512 })),
};

/**
 * The page size asked for. Validation has filled in the default already; the static type of
 * an optional query field cannot say so, and callers outside a request have no validation.
 */
export const pageSize = (query: { limit?: number }): number => query.limit ?? DEFAULT_PAGE_SIZE;

export const Page = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), next_cursor: Type.Union([Type.String(), Type.Null()]) });
