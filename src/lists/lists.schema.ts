// Promo code lists: what a client sends and what it gets back.
import { Type, type Static } from '@sinclair/typebox';
import { CatalogKey } from '../catalog/catalog.schema';
import { Nullable, NullableTimestamp, PageQuery, Timestamp, TimestampInput, Description, Name } from '../http/schemas';
import { NAME_MAX } from '../http/limits';

const LIST_TYPES = ['single_use', 'multi_use', 'third_party'] as const;
const LIST_STATUSES = ['pending', 'active', 'completed'] as const;
export const LIST_SORTS = [
  'name',
  'type',
  'status',
  'starts_at',
  'ends_at',
  'claim_count',
  'entry_cap',
  'code_count',
  'created_at',
] as const;

const literals = <T extends readonly string[]>(values: T) =>
  Type.Unsafe<T[number]>(Type.Union(values.map((v) => Type.Literal(v))));

export const ListType = literals(LIST_TYPES);
export const ListStatus = literals(LIST_STATUSES);
export const ListSort = literals(LIST_SORTS);

const Tag = Type.String({ minLength: 1, maxLength: 64 });

export const Outcome = Type.Object(
  {
    points: Type.Optional(
      Type.Object(
        { amount: Type.Integer({ minimum: 1, maximum: 1_000_000_000 }), account: CatalogKey, source: CatalogKey },
        { additionalProperties: false },
      ),
    ),
    offers: Type.Optional(Type.Array(CatalogKey, { minItems: 1, maxItems: 10, uniqueItems: true })),
    tags: Type.Optional(Type.Array(Tag, { minItems: 1, maxItems: 20, uniqueItems: true })),
  },
  { additionalProperties: false, minProperties: 1, description: 'at least one of points, offers, tags' },
);

const Cap = Nullable(Type.Integer({ minimum: 1, maximum: 2_000_000_000, description: 'null = uncapped' }));

export const CreateListBody = Type.Object(
  {
    name: Name,
    description: Type.Optional(Description),
    type: ListType,
    starts_at: Type.Optional(TimestampInput),
    ends_at: Type.Optional(Nullable(TimestampInput)),
    redemption_cap: Type.Optional(Cap),
    outcome: Outcome,
    code: Type.Optional(
      Type.String({ minLength: 1, maxLength: 128, description: 'multi_use only: the one code of the list' }),
    ),
  },
  {
    additionalProperties: false,
    examples: [
      {
        name: 'Summer fair 2026',
        type: 'single_use',
        starts_at: '2026-06-01T00:00:00Z',
        ends_at: '2026-09-01T00:00:00Z',
        redemption_cap: 50000,
        outcome: {
          points: { amount: 500, account: 'spendable', source: 'promo' },
          offers: ['coffee'],
          tags: ['summer-2026'],
        },
      },
      { name: 'Welcome code', type: 'multi_use', code: 'WELCOME10', outcome: { tags: ['welcome'] } },
    ],
  },
);

/** Known list fields that exist but may not change are accepted here so that the service can
 * answer `field_not_editable` instead of a generic validation error. */
export const NOT_EDITABLE = ['type', 'starts_at', 'outcome', 'code', 'id', 'created_at'] as const;

export const UpdateListBody = Type.Object(
  {
    name: Type.Optional(Name),
    description: Type.Optional(Description),
    ends_at: Type.Optional(Nullable(TimestampInput)),
    redemption_cap: Type.Optional(Cap),
    ...Object.fromEntries(NOT_EDITABLE.map((field) => [field, Type.Optional(Type.Unknown())])),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const List = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    description: Nullable(Type.String()),
    type: ListType,
    starts_at: Timestamp,
    ends_at: NullableTimestamp,
    redemption_cap: Nullable(Type.Integer()),
    outcome: Outcome,
    code: Nullable(Type.String({ description: 'multi_use: the code as the admin typed it' })),
    status: ListStatus,
    completed_reason: Nullable(Type.Union([Type.Literal('ended'), Type.Literal('cap_reached')])),
    claim_count: Type.Integer(),
    code_count: Type.Integer(),
    available_count: Type.Integer(),
    cancelled_count: Type.Integer(),
    entry_cap: Nullable(
      Type.Integer({ description: 'uses per code: 1, or the cap of a multi-use code (null = unlimited)' }),
    ),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { $id: 'List' },
);

export const ListQuery = Type.Object(
  {
    q: Type.Optional(Type.String({ maxLength: NAME_MAX, description: 'part of the name, any case' })),
    type: Type.Optional(ListType),
    status: Type.Optional(ListStatus),
    sort: Type.Optional(ListSort),
    order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
    ...PageQuery,
  },
  { additionalProperties: false },
);

export type CreateList = Static<typeof CreateListBody>;
export type UpdateList = Static<typeof UpdateListBody>;
export type ListQuery = Static<typeof ListQuery>;
export type OutcomeInput = Static<typeof Outcome>;
export type ListSort = (typeof LIST_SORTS)[number];
