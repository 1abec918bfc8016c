// Roles as the settings tabs show and offer them (API keys and operators have the same roles).
import type { ReactNode } from 'react';
import type { Role } from '../../api';
import { Field } from '../../components/Field';

/** A role's name as a word: "admin" → "Admin". */
export const roleLabel = (role: string) => role.charAt(0).toUpperCase() + role.slice(1);

/** A "Role" select offering `roles` in that order. */
export function RoleSelect({
  value,
  onChange,
  roles,
  hint,
}: {
  value: Role;
  onChange: (role: Role) => void;
  roles: Role[];
  hint: ReactNode;
}) {
  return (
    <Field label="Role" hint={hint}>
      {(props) => (
        <select {...props} value={value} onChange={(e) => onChange(e.target.value as Role)}>
          {roles.map((role) => (
            <option key={role} value={role}>
              {roleLabel(role)}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}
