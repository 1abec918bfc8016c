import { Type, type Static } from '@sinclair/typebox';
import { Nullable, Timestamp, Description, Name } from '../http/schemas';

export const CatalogKey = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$',
  description: 'letters, digits, _ . : -; up to 64',
  examples: ['coffee'],
});

export const PointKind = Type.Object({ key: CatalogKey, name: Type.String(), created_at: Timestamp });
export const PointAccount = Type.Object(PointKind.properties, { $id: 'PointAccount' });
export const PointSource = Type.Object(PointKind.properties, { $id: 'PointSource' });
export const CreatePointKindBody = Type.Object({ key: CatalogKey, name: Name }, { additionalProperties: false });

export const Offer = Type.Object(
  {
    id: CatalogKey,
    name: Type.String(),
    description: Nullable(Type.String()),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { $id: 'Offer' },
);
export const CreateOfferBody = Type.Object(
  { id: CatalogKey, name: Name, description: Type.Optional(Description) },
  { additionalProperties: false },
);
export const UpdateOfferBody = Type.Object(
  { name: Type.Optional(Name), description: Type.Optional(Description) },
  { additionalProperties: false, minProperties: 1 },
);
export const OfferParams = Type.Object({ id: CatalogKey }, { additionalProperties: false });

export type CreatePointKind = Static<typeof CreatePointKindBody>;
export type CreateOffer = Static<typeof CreateOfferBody>;
export type UpdateOffer = Static<typeof UpdateOfferBody>;
