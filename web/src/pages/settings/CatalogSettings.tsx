// Catalog: point accounts, point sources and offers that list outcomes refer to.
import { useState, type FormEvent } from 'react';
import { api, ApiError, unwrap, type Offer, type RequestBody } from '../../api';
import { Field } from '../../components/Field';
import { Modal } from '../../components/Modal';
import { PagedTable, usePaged } from '../../components/PagedTable';
import { NoticeBar, useAction, type Action } from '../../components/Notice';
import { Time } from '../../components/Time';
import { DESCRIPTION_MAX, NAME_MAX } from '../../../../src/http/limits';

const KEY_HINT = 'Letters, digits and _ . : - (up to 64); cannot be changed later.';

const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
const KEY_PROBLEM = 'Use only letters, digits and _ . : - (starting with a letter or digit), up to 64 characters.';

/** A schema message in words: patterns are explained rather than quoted. */
const friendly = (message: string) =>
  /pattern/.test(message) ? KEY_PROBLEM : `${message.charAt(0).toUpperCase() + message.slice(1)}.`;

/** Runs a create or edit; on a validation error, returns its messages by field. */
async function submitForm(
  action: Action,
  change: () => Promise<unknown>,
  success: string,
  setErrors: (errors: Record<string, string>) => void,
) {
  setErrors({});
  let fieldErrors: Record<string, string> = {};
  const done = await action.run(async () => {
    try {
      return await change();
    } catch (failure) {
      if (failure instanceof ApiError)
        fieldErrors = Object.fromEntries(Object.entries(failure.fieldErrors()).map(([k, v]) => [k, friendly(v)]));
      throw failure;
    }
  }, success);
  setErrors(fieldErrors);
  if (Object.keys(fieldErrors).length)
    action.setNotice({ kind: 'error', text: 'Not saved: check the highlighted fields.' });
  return done !== undefined;
}

export function CatalogSettings() {
  return (
    <>
      <div className="grid-2">
        <PointKinds noun="account" title="Point accounts" example="spendable" />
        <PointKinds noun="source" title="Point sources" example="promo_code" />
      </div>
      <Offers />
    </>
  );
}

/** The catalog's point accounts and point sources: read a page, create one. */
const POINT_KINDS = {
  account: {
    list: (cursor?: string) => unwrap(api.GET('/v1/point-accounts', { params: { query: { limit: 1000, cursor } } })),
    create: (body: RequestBody<'createPointAccount'>) => unwrap(api.POST('/v1/point-accounts', { body })),
  },
  source: {
    list: (cursor?: string) => unwrap(api.GET('/v1/point-sources', { params: { query: { limit: 1000, cursor } } })),
    create: (body: RequestBody<'createPointSource'>) => unwrap(api.POST('/v1/point-sources', { body })),
  },
};

function PointKinds({ noun, title, example }: { noun: keyof typeof POINT_KINDS; title: string; example: string }) {
  const calls = POINT_KINDS[noun];
  const rows = usePaged(noun, calls.list);
  const action = useAction();
  const [key, setKey] = useState('');
  const [name, setName] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const Noun = noun.charAt(0).toUpperCase() + noun.slice(1);

  async function create(event: FormEvent) {
    event.preventDefault();
    if (!KEY_PATTERN.test(key.trim())) return setErrors({ key: KEY_PROBLEM });
    const ok = await submitForm(
      action,
      () => calls.create({ key: key.trim(), name: name.trim() }),
      `Point ${noun} “${key.trim()}” created.`,
      setErrors,
    );
    if (ok) {
      setKey('');
      setName('');
      rows.reload();
    }
  }

  return (
    <section className="card" aria-labelledby={`${noun}-title`}>
      <h2 id={`${noun}-title`}>{title}</h2>
      <PagedTable
        paged={rows}
        columns={['Key', 'Name', 'Created']}
        empty={`No point ${noun}s yet.`}
        row={(row) => (
          <tr key={row.key}>
            <td className="mono">{row.key}</td>
            <td>{row.name}</td>
            <td>
              <Time at={row.created_at} />
            </td>
          </tr>
        )}
      />
      <form className="ops-create" onSubmit={create} aria-label={`New point ${noun}`}>
        <h3>New point {noun}</h3>
        <NoticeBar notice={action.notice} onDismiss={() => action.setNotice(null)} />
        <div className="ops-row">
          <Field label={`${Noun} key`} error={errors.key} hint={KEY_HINT}>
            {(props) => (
              <input
                {...props}
                value={key}
                onChange={(e) => setKey(e.target.value)}
                required
                maxLength={64}
                placeholder={example}
              />
            )}
          </Field>
          <Field label={`${Noun} name`} error={errors.name}>
            {(props) => (
              <input {...props} value={name} onChange={(e) => setName(e.target.value)} required maxLength={NAME_MAX} />
            )}
          </Field>
        </div>
        <button type="submit" className="primary" disabled={action.busy}>
          Create point {noun}
        </button>
      </form>
    </section>
  );
}

function Offers() {
  const rows = usePaged('offers', (cursor) =>
    unwrap(api.GET('/v1/offers', { params: { query: { limit: 1000, cursor } } })),
  );
  const action = useAction();
  const [id, setId] = useState('');
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [editing, setEditing] = useState<Offer | null>(null);

  async function create(event: FormEvent) {
    event.preventDefault();
    if (!KEY_PATTERN.test(id.trim())) return setErrors({ id: KEY_PROBLEM });
    const body = {
      id: id.trim(),
      name: name.trim(),
      ...(description.trim() ? { description: description.trim() } : {}),
    };
    const ok = await submitForm(
      action,
      () => unwrap(api.POST('/v1/offers', { body })),
      `Offer “${body.id}” created.`,
      setErrors,
    );
    if (ok) {
      setId('');
      setName('');
      setDescription('');
      rows.reload();
    }
  }

  return (
    <section className="card" aria-labelledby="offers-title">
      <h2 id="offers-title">Offers</h2>
      <NoticeBar notice={action.notice} onDismiss={() => action.setNotice(null)} />
      <PagedTable
        paged={rows}
        columns={['ID', 'Name', 'Description', 'Updated']}
        actions
        empty="No offers yet. Create one below to use it in a list outcome."
        row={(offer) => (
          <tr key={offer.id}>
            <td className="mono">{offer.id}</td>
            <td>{offer.name}</td>
            <td>{offer.description || <span className="muted">—</span>}</td>
            <td>
              <Time at={offer.updated_at} />
            </td>
            <td className="ops-right">
              <button
                type="button"
                className="secondary small"
                onClick={() => setEditing(offer)}
                title={`Edit offer ${offer.id}`}
              >
                Edit
              </button>
            </td>
          </tr>
        )}
      />
      <form className="ops-create" onSubmit={create} aria-label="New offer">
        <h3>New offer</h3>
        <div className="ops-row">
          <Field label="Offer ID" error={errors.id} hint={KEY_HINT}>
            {(props) => (
              <input
                {...props}
                value={id}
                onChange={(e) => setId(e.target.value)}
                required
                maxLength={64}
                placeholder="free_coffee"
              />
            )}
          </Field>
          <Field label="Offer name" error={errors.name}>
            {(props) => (
              <input {...props} value={name} onChange={(e) => setName(e.target.value)} required maxLength={NAME_MAX} />
            )}
          </Field>
        </div>
        <Field label="Offer description (optional)" error={errors.description}>
          {(props) => (
            <textarea
              {...props}
              value={description}
              onChange={(e) => setDescription(e.target.value)}
              maxLength={DESCRIPTION_MAX}
            />
          )}
        </Field>
        <button type="submit" className="primary" disabled={action.busy}>
          Create offer
        </button>
      </form>
      {editing && (
        <EditOffer
          offer={editing}
          onClose={() => setEditing(null)}
          onSaved={(offer) => {
            setEditing(null);
            action.setNotice({ kind: 'ok', text: `Offer “${offer.id}” saved.` });
            rows.reload();
          }}
        />
      )}
    </section>
  );
}

function EditOffer({
  offer,
  onClose,
  onSaved,
}: {
  offer: Offer;
  onClose: () => void;
  onSaved: (offer: Offer) => void;
}) {
  const [name, setName] = useState(offer.name);
  const [description, setDescription] = useState(offer.description ?? '');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const action = useAction();

  async function save(event: FormEvent) {
    event.preventDefault();
    const body = { name: name.trim(), description: description.trim() || null };
    let saved: Offer | undefined;
    await submitForm(
      action,
      async () => (saved = await unwrap(api.PATCH('/v1/offers/{id}', { params: { path: { id: offer.id } }, body }))),
      'Saved.',
      setErrors,
    );
    if (saved) onSaved(saved);
  }

  return (
    <Modal title={`Edit offer ${offer.id}`} onClose={onClose}>
      <form onSubmit={save}>
        <Field label="Name" error={errors.name}>
          {(props) => (
            <input {...props} value={name} onChange={(e) => setName(e.target.value)} required maxLength={NAME_MAX} />
          )}
        </Field>
        <Field label="Description" error={errors.description} hint="Leave empty for none.">
          {(props) => (
            <textarea
              {...props}
              value={description}
              onChange={(e) => setDescription(e.target.value)}
              maxLength={DESCRIPTION_MAX}
            />
          )}
        </Field>
        {action.notice?.kind === 'error' && (
          <div className="alert error" role="alert">
            {action.notice.text}
          </div>
        )}
        <div className="actions">
          <button type="button" className="secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={action.busy}>
            {action.busy ? 'Saving…' : 'Save offer'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
