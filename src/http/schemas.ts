// Schemas shared by every feature: the error shape, pages, ids and timestamps.
import { Type, type TSchema } from '@sinclair/typebox';

export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      details: Type.Optional(Type.Unknown()),
    }),
  },
  { $id: 'ErrorResponse', description: 'Every error has this shape' },
);

/** A timestamp in a response: the handler returns a Date, the serializer writes ISO 8601 UTC. */
export const Timestamp = Type.Unsafe<Date | string>({ type: 'string', format: 'date-time' });
export const NullableTimestamp = Type.Unsafe<Date | string | null>({ type: ['string', 'null'], format: 'date-time' });
/** A timestamp a client sends: ISO 8601 with a time zone, read by http/timestamps.ts. */
export const TimestampInput = Type.String({
  format: 'date-time',
  description: 'ISO 8601 with time zone, e.g. 2026-01-31T09:00:00Z; a real date in the years 1970–9999, no leap second (:60)',
});
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const IdParams = Type.Object({ id: Type.String({ pattern: '^[1-9][0-9]{0,17}$', description: 'numeric id' }) }, { additionalProperties: false });

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  cursor: Type.Optional(Type.String({ maxLength: 512 })),
};

export const Page = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), next_cursor: Type.Union([Type.String(), Type.Null()]) });

/** Error responses every authenticated route may give, for the OpenAPI document (503: the
 * database is unavailable, or the server is shutting down). */
export const commonErrors = {
  400: Type.Ref(ErrorResponse),
  401: Type.Ref(ErrorResponse),
  403: Type.Ref(ErrorResponse),
  503: Type.Ref(ErrorResponse),
};
