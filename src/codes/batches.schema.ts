import { Type, type Static } from '@sinclair/typebox';
import { Nullable, NullableTimestamp, Timestamp, Name } from '../http/schemas';
import { CHARSETS, DEFAULT_FORMAT, FORMAT_LIMITS, type Charset } from './format';

const charsets = Object.keys(CHARSETS) as Charset[];
export const CharsetSchema = Type.Unsafe<Charset>(Type.Union(charsets.map((c) => Type.Literal(c))));
const Affix = Type.String({
  pattern: `^[A-Za-z0-9]{0,${FORMAT_LIMITS.maxAffix}}$`,
  description: `0–${FORMAT_LIMITS.maxAffix} letters A–Z or digits; upper-cased`,
  examples: ['SUM'],
});

export const FormatInput = Type.Object(
  {
    length: Type.Optional(
      Type.Integer({
        minimum: FORMAT_LIMITS.minLength,
        maximum: FORMAT_LIMITS.maxLength,
        description: `random characters; default ${DEFAULT_FORMAT.length}`,
      }),
    ),
    prefix: Type.Optional(Affix),
    suffix: Type.Optional(Affix),
    charset: Type.Optional(CharsetSchema),
  },
  { additionalProperties: false },
);

export const Format = Type.Object({
  length: Type.Integer(),
  prefix: Type.String(),
  suffix: Type.String(),
  charset: CharsetSchema,
});

export const Emails = Type.Array(Type.String({ format: 'email', maxLength: 320 }), { maxItems: 20, uniqueItems: true });

export const CreateBatchBody = Type.Object(
  {
    count: Type.Integer({ minimum: 1, description: 'at most MAX_CODES_PER_REQUEST (default 1,000,000)' }),
    name: Type.Optional(Name),
    notify: Type.Optional(Emails),
    format: Type.Optional(FormatInput),
  },
  {
    additionalProperties: false,
    examples: [
      {
        count: 100000,
        name: 'Flyers for the summer fair',
        notify: ['ops@example.com'],
        format: { length: 8, prefix: 'SUM' },
      },
    ],
  },
);

export const BatchStatus = Type.Union([Type.Literal('pending'), Type.Literal('active'), Type.Literal('failed')]);

export const Batch = Type.Object(
  {
    id: Type.String(),
    list_id: Type.String(),
    name: Nullable(Type.String()),
    requested: Type.Integer(),
    generated: Type.Integer({ description: 'codes made so far; equals requested once active' }),
    status: BatchStatus,
    error: Nullable(Type.String()),
    notify: Type.Array(Type.String()),
    format: Format,
    created_at: Timestamp,
    completed_at: NullableTimestamp,
  },
  { $id: 'Batch' },
);

export type CreateBatch = Static<typeof CreateBatchBody>;
