import { Type, type Static } from '@sinclair/typebox';
import { Nullable, NullableTimestamp, Timestamp, Name } from '../http/schemas';
import { BatchStatus } from './batches.schema';

export const ImportQuery = Type.Object(
  {
    name: Type.Optional(Name),
    notify: Type.Optional(
      Type.String({ maxLength: 4000, description: 'comma-separated email addresses to alert when done' }),
    ),
    column: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description:
          'the code column: a header name, or a number from 1; ' +
          'by default the column headed code, coupon, voucher, … or else the first',
      }),
    ),
  },
  { additionalProperties: false },
);

export const Import = Type.Object(
  {
    id: Type.String(),
    list_id: Type.String(),
    name: Nullable(Type.String()),
    status: BatchStatus,
    total_lines: Type.Integer({ description: 'lines in the upload' }),
    accepted: Type.Integer(),
    rejected: Type.Integer({ description: 'see GET /v1/imports/{id}/report' }),
    error: Nullable(Type.String()),
    notify: Type.Array(Type.String()),
    created_at: Timestamp,
    completed_at: NullableTimestamp,
  },
  { $id: 'Import' },
);

export const Rejection = Type.Object(
  {
    line: Type.Integer({ description: 'line (text) or row (.xlsx) of the file' }),
    value: Type.String({ description: 'the value as the file holds it' }),
    reason: Type.Union([Type.Literal('invalid'), Type.Literal('duplicate'), Type.Literal('code_taken')]),
    detail: Nullable(
      Type.Union([Type.Literal('too_short'), Type.Literal('too_long'), Type.Literal('bad_characters')], {
        description: 'invalid: what keeps it out of the code alphabet',
      }),
    ),
    repeats_line: Nullable(
      Type.Integer({
        description: 'duplicate: the line it repeats (null when that line was processed in an earlier chunk)',
      }),
    ),
  },
  { $id: 'Rejection' },
);

export type ImportQuery = Static<typeof ImportQuery>;
export type Rejection = Static<typeof Rejection>;
