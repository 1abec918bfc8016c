// Dashboard operators: create (one-time password shown once), change name and role,
// disable / enable, reset the password (a new one-time password, shown once).
import { useState, type FormEvent } from 'react';
import { api, ApiError, unwrap, type NewOperator, type OperatorChanges, type OperatorRow, type Role } from '../../api';
import { useSession } from '../../session';
import { Field } from '../../components/Field';
import { Confirm, Modal } from '../../components/Modal';
import { StatusTag } from '../../components/StatusTag';
import { PagedTable, usePaged } from '../../components/PagedTable';
import { NoticeBar, useAction, type Action } from '../../components/Notice';
import { RoleSelect, roleLabel } from './RoleSelect';
import { SecretModal } from '../../components/SecretModal';
import { Time } from '../../components/Time';
import { NAME_MAX } from '../../../../src/http/limits';

type Pending = { kind: 'disable' | 'enable' | 'reset' | 'edit'; operator: OperatorRow } | null;

function OperatorRoleSelect({ value, onChange }: { value: Role; onChange: (role: Role) => void }) {
  return (
    <RoleSelect
      value={value}
      onChange={onChange}
      roles={['agent', 'admin', 'client']}
      hint="Agents help customers; admins also manage lists, settings and operators."
    />
  );
}

function statusOf(operator: OperatorRow) {
  if (operator.disabled_at) return <StatusTag status="disabled" />;
  if (operator.must_change_password)
    return <StatusTag status="awaiting_first_sign_in" label="Awaiting first sign-in" />;
  return <StatusTag status="active" />;
}

export function OperatorsSettings() {
  const { operator: me } = useSession();
  const operators = usePaged('operators', (cursor) =>
    unwrap(api.GET('/v1/operators', { params: { query: { limit: 1000, cursor } } })),
  );
  const action = useAction();
  const [pending, setPending] = useState<Pending>(null);
  const [secret, setSecret] = useState<{ title: string; email: string; password: string } | null>(null);

  async function update(operator: OperatorRow, body: OperatorChanges, success: string) {
    const result = await action.run(
      () => unwrap(api.PATCH('/v1/operators/{id}', { params: { path: { id: operator.id } }, body })),
      success,
    );
    setPending(null);
    if (!result) return;
    operators.reload();
    if (result.password) setSecret({ title: 'New one-time password', email: result.email, password: result.password });
  }

  return (
    <>
      <NoticeBar notice={action.notice} onDismiss={() => action.setNotice(null)} />
      <section className="card" aria-labelledby="operators-title">
        <h2 id="operators-title">Operators</h2>
        <PagedTable
          paged={operators}
          columns={['Email', 'Name', 'Role', 'Status', 'Last sign-in']}
          actions
          empty="No operators yet."
          row={(operator) => {
            const self = operator.id === me?.id;
            return (
              <tr key={operator.id}>
                <td>
                  {operator.email}
                  {self && <span className="muted"> (you)</span>}
                </td>
                <td>{operator.name || <span className="muted">—</span>}</td>
                <td>{roleLabel(operator.role)}</td>
                <td>{statusOf(operator)}</td>
                <td>
                  {operator.last_login_at ? <Time at={operator.last_login_at} /> : <span className="muted">Never</span>}
                </td>
                <td className="ops-right ops-nowrap">
                  <button
                    type="button"
                    className="secondary small"
                    onClick={() => setPending({ kind: 'edit', operator })}
                    title={`Edit ${operator.email}`}
                  >
                    Edit
                  </button>{' '}
                  {operator.disabled_at ? (
                    <button
                      type="button"
                      className="secondary small"
                      onClick={() => setPending({ kind: 'enable', operator })}
                      title={`Enable ${operator.email}`}
                    >
                      Enable
                    </button>
                  ) : (
                    <button
                      type="button"
                      className="secondary small"
                      onClick={() => setPending({ kind: 'disable', operator })}
                      disabled={self}
                      title={self ? 'You cannot disable yourself' : `Disable ${operator.email}`}
                    >
                      Disable
                    </button>
                  )}{' '}
                  <button
                    type="button"
                    className="secondary small"
                    onClick={() => setPending({ kind: 'reset', operator })}
                    disabled={self} // a reset ends one's own session before the new password could be read
                    title={
                      self
                        ? 'You cannot reset your own password; ask another admin'
                        : `Reset the password of ${operator.email}`
                    }
                  >
                    Reset password
                  </button>
                </td>
              </tr>
            );
          }}
        />
      </section>

      <CreateOperator
        action={action}
        onCreated={(created) => {
          operators.reload();
          setSecret({ title: 'Operator created', email: created.email, password: created.password });
        }}
      />

      {pending?.kind === 'edit' && (
        <EditOperator
          operator={pending.operator}
          self={pending.operator.id === me?.id}
          busy={action.busy}
          onClose={() => setPending(null)}
          onSave={(body) => void update(pending.operator, body, `${pending.operator.email} saved.`)}
        />
      )}
      {pending?.kind === 'disable' && (
        <Confirm
          title="Disable this operator?"
          confirmLabel="Disable operator"
          busy={action.busy}
          onClose={() => setPending(null)}
          onConfirm={() =>
            void update(pending.operator, { disabled: true }, `${pending.operator.email} is disabled and signed out.`)
          }
        >
          <p>{pending.operator.email} is signed out everywhere and cannot sign in until an admin enables them again.</p>
        </Confirm>
      )}
      {pending?.kind === 'enable' && (
        <Confirm
          title="Enable this operator?"
          confirmLabel="Enable operator"
          danger={false}
          busy={action.busy}
          onClose={() => setPending(null)}
          onConfirm={() =>
            void update(pending.operator, { disabled: false }, `${pending.operator.email} can sign in again.`)
          }
        >
          <p>{pending.operator.email} can sign in again with their password.</p>
        </Confirm>
      )}
      {pending?.kind === 'reset' && (
        <Confirm
          title="Reset this password?"
          confirmLabel="Reset password"
          busy={action.busy}
          onClose={() => setPending(null)}
          onConfirm={() =>
            void update(
              pending.operator,
              { reset_password: true },
              `${pending.operator.email} has a new one-time password.`,
            )
          }
        >
          <p>
            {pending.operator.email} is signed out everywhere and their current password stops working. You get a
            one-time password to give them; they choose their own at their next sign-in.
          </p>
        </Confirm>
      )}
      {secret && (
        <SecretModal title={secret.title} secret={secret.password} onClose={() => setSecret(null)}>
          Give {secret.email} this one-time password. They choose their own password when they first sign in with it.
        </SecretModal>
      )}
    </>
  );
}

function CreateOperator({ action, onCreated }: { action: Action; onCreated: (operator: NewOperator) => void }) {
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('agent');
  const [errors, setErrors] = useState<Record<string, string>>({});

  async function create(event: FormEvent) {
    event.preventDefault();
    setErrors({});
    const body = { email: email.trim(), role, ...(name.trim() ? { name: name.trim() } : {}) };
    const created = await action.run(
      () =>
        unwrap(api.POST('/v1/operators', { body })).catch((failure: unknown) => {
          if (failure instanceof ApiError) setErrors(failure.fieldErrors());
          throw failure;
        }),
      (operator) => `Operator ${operator.email} created.`,
    );
    if (created) {
      setEmail('');
      setName('');
      onCreated(created);
    }
  }

  return (
    <form className="card" onSubmit={create} aria-labelledby="new-operator-title">
      <h2 id="new-operator-title">New operator</h2>
      <div className="ops-row ops-three">
        <Field label="Email" error={errors.email}>
          {(props) => (
            <input
              {...props}
              type="email"
              value={email}
              onChange={(e) => setEmail(e.target.value)}
              required
              maxLength={254}
              autoComplete="off"
            />
          )}
        </Field>
        <Field label="Name" error={errors.name} hint="Optional.">
          {(props) => (
            <input
              {...props}
              value={name}
              onChange={(e) => setName(e.target.value)}
              maxLength={NAME_MAX}
              autoComplete="off"
            />
          )}
        </Field>
        <OperatorRoleSelect value={role} onChange={setRole} />
      </div>
      <button type="submit" className="primary" disabled={action.busy}>
        Create operator
      </button>
    </form>
  );
}

function EditOperator({
  operator,
  self,
  busy,
  onClose,
  onSave,
}: {
  operator: OperatorRow;
  self: boolean;
  busy: boolean;
  onClose: () => void;
  onSave: (body: OperatorChanges) => void;
}) {
  const [name, setName] = useState(operator.name ?? '');
  const [role, setRole] = useState<Role>(operator.role);
  function save(event: FormEvent) {
    event.preventDefault();
    const body: OperatorChanges = {};
    if ((name.trim() || null) !== operator.name) body.name = name.trim() || null;
    if (role !== operator.role) body.role = role;
    if (Object.keys(body).length === 0) return onClose();
    onSave(body);
  }
  return (
    <Modal title={`Edit ${operator.email}`} onClose={onClose}>
      <form onSubmit={save}>
        <Field label="Name" hint="Leave empty for none.">
          {(props) => <input {...props} value={name} onChange={(e) => setName(e.target.value)} maxLength={NAME_MAX} />}
        </Field>
        {self ? (
          <p className="muted">You cannot change your own role; ask another admin.</p>
        ) : (
          <OperatorRoleSelect value={role} onChange={setRole} />
        )}
        <div className="actions">
          <button type="button" className="secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Saving…' : 'Save operator'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
