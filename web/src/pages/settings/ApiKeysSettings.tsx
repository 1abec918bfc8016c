// API keys: create (the secret is shown once), list, revoke.
import { useState, type FormEvent } from 'react';
import { api, ApiError, unwrap, type ApiKey, type NewApiKey, type Role } from '../../api';
import { Field } from '../../components/Field';
import { Confirm } from '../../components/Modal';
import { StatusTag } from '../../components/StatusTag';
import { PagedTable, usePaged } from '../../components/PagedTable';
import { NoticeBar, useAction } from '../../components/Notice';
import { RoleSelect, roleLabel } from './RoleSelect';
import { SecretModal } from '../../components/SecretModal';
import { Time } from '../../components/Time';
import { NAME_MAX } from '../../../../src/http/limits';

const ROLE_HINTS: Record<Role, string> = {
  client: 'Client: register customers, validate and claim codes (apps, websites, POS).',
  agent: 'Agent: also read everything, search, troubleshoot, cancel codes and reverse claims.',
  admin: 'Admin: everything, including lists, catalog, keys and operators.',
};

export function ApiKeysSettings() {
  const keys = usePaged('api-keys', (cursor) =>
    unwrap(api.GET('/v1/api-keys', { params: { query: { limit: 1000, cursor } } })),
  );
  const action = useAction();
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('client');
  const [nameError, setNameError] = useState<string>();
  const [created, setCreated] = useState<NewApiKey | null>(null);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);

  async function create(event: FormEvent) {
    event.preventDefault();
    setNameError(undefined);
    const result = await action.run(
      () =>
        unwrap(api.POST('/v1/api-keys', { body: { name: name.trim(), role } })).catch((failure: unknown) => {
          if (failure instanceof ApiError) setNameError(failure.fieldErrors().name);
          throw failure;
        }),
      (key) => `API key “${key.name}” created.`,
    );
    if (result) {
      setCreated(result);
      setName('');
      keys.reload();
    }
  }

  async function revoke(key: ApiKey) {
    const done = await action.run(
      () => unwrap(api.DELETE('/v1/api-keys/{id}', { params: { path: { id: key.id } } })),
      `API key “${key.name}” was revoked. Requests with it are now refused.`,
    );
    setRevoking(null);
    if (done) keys.reload();
  }

  return (
    <>
      <NoticeBar notice={action.notice} onDismiss={() => action.setNotice(null)} />
      <section className="card" aria-labelledby="keys-title">
        <h2 id="keys-title">API keys</h2>
        <PagedTable
          paged={keys}
          columns={['Name', 'Role', 'Prefix', 'Created', 'Status']}
          actions
          empty="No API keys yet. Create one for each app that calls the service."
          row={(key) => (
            <tr key={key.id}>
              <td>{key.name}</td>
              <td>{roleLabel(key.role)}</td>
              <td className="mono">{key.prefix}…</td>
              <td>
                <Time at={key.created_at} />
                {key.created_by && <div className="muted ops-small">by {key.created_by}</div>}
              </td>
              <td>
                {key.revoked_at ? (
                  <>
                    <StatusTag status="revoked" /> <Time at={key.revoked_at} />
                  </>
                ) : (
                  <StatusTag status="active" />
                )}
              </td>
              <td className="ops-right">
                {!key.revoked_at && (
                  <button
                    type="button"
                    className="secondary small"
                    onClick={() => setRevoking(key)}
                    title={`Revoke ${key.name}`}
                  >
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          )}
        />
      </section>

      <form className="card" onSubmit={create} aria-labelledby="new-key-title">
        <h2 id="new-key-title">New API key</h2>
        <div className="ops-row">
          <Field label="Name" error={nameError} hint="Who uses it, e.g. “Mobile app (production)”.">
            {(props) => (
              <input {...props} value={name} onChange={(e) => setName(e.target.value)} required maxLength={NAME_MAX} />
            )}
          </Field>
          <RoleSelect value={role} onChange={setRole} roles={['client', 'agent', 'admin']} hint={ROLE_HINTS[role]} />
        </div>
        <button type="submit" className="primary" disabled={action.busy}>
          Create API key
        </button>
      </form>

      {created && (
        <SecretModal title="API key created" secret={created.key} onClose={() => setCreated(null)}>
          Copy the key for “{created.name}” ({roleLabel(created.role)}) now and store it safely: the service keeps only
          a hash of it.
        </SecretModal>
      )}
      {revoking && (
        <Confirm
          title="Revoke this API key?"
          confirmLabel="Revoke key"
          busy={action.busy}
          onClose={() => setRevoking(null)}
          onConfirm={() => void revoke(revoking)}
        >
          <p>
            Every request made with “{revoking.name}” (<span className="mono">{revoking.prefix}…</span>,{' '}
            {roleLabel(revoking.role)}) is refused from now on. This can&apos;t be undone: make a new key if it is still
            needed.
          </p>
        </Confirm>
      )}
    </>
  );
}
