// Edit what a live list allows (PATCH /v1/lists/:id): name, description, end and cap. Only the
// fields that changed are sent.
import { useState, type FormEvent } from 'react';
import { ApiError, api, unwrap, type ListChanges, type PromoList } from '../../api';
import { Modal } from '../../components/Modal';
import { Field } from '../../components/Field';
import { topError } from '../../components/Feedback';
import { formatCount } from '../../format';
import { CapField, EndsField, type CapMode } from './ListFields';
import { fieldError, fromLocalInput, serverFieldErrors, toLocalInput, wholeNumber } from './forms';
import { DESCRIPTION_MAX, NAME_MAX } from '../../../../src/http/limits';

const SHOWN = ['name', 'description', 'ends_at', 'redemption_cap'];

export function EditListModal({
  list,
  onClose,
  onSaved,
}: {
  list: PromoList;
  onClose: () => void;
  onSaved: (list: PromoList) => void;
}) {
  const [name, setName] = useState(list.name);
  const [description, setDescription] = useState(list.description ?? '');
  const [ends, setEnds] = useState(list.ends_at ? toLocalInput(list.ends_at) : '');
  const [capMode, setCapMode] = useState<CapMode>(list.redemption_cap === null ? 'none' : 'cap');
  const [cap, setCap] = useState(list.redemption_cap === null ? '' : String(list.redemption_cap));
  const [attempted, setAttempted] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);

  const capValue = capMode === 'cap' ? wholeNumber(cap) : null;
  const local: Record<string, string> = {};
  if (!name.trim()) local.name = 'The list needs a name.';
  else if (name.trim().length > 200) local.name = 'Use at most 200 characters.';
  if (description.length > 2000) local.description = 'Use at most 2,000 characters.';
  const endsAt = ends ? fromLocalInput(ends) : null;
  if (ends && !endsAt) local.ends_at = 'Enter a valid date and time, or tick "No end date".';
  else if (endsAt && new Date(endsAt) <= new Date(list.starts_at)) local.ends_at = 'The end must be after the start.';
  if (capValue !== null) {
    if (!(capValue >= 1 && capValue <= 2_000_000_000))
      local.redemption_cap = 'Enter a whole number of claims of at least 1, or choose "Don\'t cap".';
    else if (capValue < list.claim_count) {
      const claims = formatCount(list.claim_count);
      local.redemption_cap = `The list already has ${claims} claims, so the cap can't be lower than that.`;
    }
  }
  const server = serverFieldErrors(failure);
  const errors = { ...server, ...(attempted ? local : {}) };
  const topMessage =
    failure instanceof ApiError && failure.code === 'redemption_cap_below_claim_count'
      ? `Someone claimed a code in the meantime: ${failure.message}.`
      : topError(failure, SHOWN);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setAttempted(true);
    setFailure(null);
    if (Object.keys(local).length) return;
    const changes: ListChanges = {};
    if (name.trim() !== list.name) changes.name = name.trim();
    const nextDescription = description.trim() === '' ? null : description.trim();
    if (nextDescription !== list.description) changes.description = nextDescription;
    const sameEnd =
      endsAt === null ? list.ends_at === null : list.ends_at !== null && toLocalInput(list.ends_at) === ends;
    if (!sameEnd) changes.ends_at = endsAt;
    if (capValue !== list.redemption_cap) changes.redemption_cap = capValue;
    if (Object.keys(changes).length === 0) {
      onClose();
      return;
    }
    setBusy(true);
    try {
      onSaved(await unwrap(api.PATCH('/v1/lists/{id}', { params: { path: { id: list.id } }, body: changes })));
    } catch (caught) {
      setFailure(caught);
      setBusy(false);
    }
  }

  return (
    <Modal title="Edit list" onClose={onClose}>
      <form onSubmit={submit} noValidate>
        {topMessage && (
          <div className="alert error" role="alert">
            {topMessage}
          </div>
        )}
        <p className="muted lists-note">The type, start, code and outcome of a list can't change once it exists.</p>
        <Field label="Name" error={fieldError(errors, 'name')}>
          {(props) => (
            <input
              {...props}
              type="text"
              maxLength={NAME_MAX}
              autoFocus
              value={name}
              onChange={(e) => setName(e.target.value)}
            />
          )}
        </Field>
        <Field label="Description" error={fieldError(errors, 'description')}>
          {(props) => (
            <textarea
              {...props}
              maxLength={DESCRIPTION_MAX}
              value={description}
              onChange={(e) => setDescription(e.target.value)}
            />
          )}
        </Field>
        <EndsField value={ends} onChange={setEnds} error={fieldError(errors, 'ends_at')} />
        <CapField
          mode={capMode}
          amount={cap}
          onMode={setCapMode}
          onAmount={setCap}
          error={fieldError(errors, 'redemption_cap')}
          hint={`${formatCount(list.claim_count)} claims so far; the cap can't go below that.`}
        />
        <div className="actions">
          <button type="button" className="secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Saving…' : 'Save changes'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
