import { Type } from '@sinclair/typebox';
import { NullableTimestamp, Timestamp, Nullable, Name } from '../http/schemas';
import { ROLES } from './roles';

export const RoleSchema = Type.Union(ROLES.map((r) => Type.Literal(r)));

export const ApiKey = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    role: RoleSchema,
    prefix: Type.String({
      description:
        'the first characters of a generated secret, to tell keys apart; ' +
        '`bootstrap` for the ADMIN_API_KEY key, whose secret is stored in no part',
    }),
    created_by: Nullable(Type.String()),
    created_at: Timestamp,
    revoked_at: NullableTimestamp,
  },
  { $id: 'ApiKey' },
);

export const CreatedApiKey = Type.Object({
  ...ApiKey.properties,
  key: Type.String({ description: 'the secret; shown only in this response' }),
});

export const CreateApiKeyBody = Type.Object(
  {
    name: Name,
    role: RoleSchema,
  },
  { additionalProperties: false },
);
