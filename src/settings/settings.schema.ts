// The claim limits' shape: the settings routes take and answer it, troubleshoot shows it.
import { type Static, Type } from '@sinclair/typebox';
import { Nullable } from '../http/schemas';

const Limit = Nullable(
  Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'claims per customer; null = no limit' }),
);

export const ClaimLimits = Type.Object({ per_week: Limit, per_month: Limit, per_year: Limit });
export type ClaimLimits = Static<typeof ClaimLimits>;

export const ClaimLimitsBody = Type.Partial(ClaimLimits, {
  additionalProperties: false,
  description: 'replaces the limits; a period left out has none',
});
