// Create a promo code list (POST /v1/lists): every field of docs/product.md. Obvious mistakes are caught
// here; the service's field errors appear under the matching field, anything else at the top.
import { useEffect, useId, useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { codeProblem, normalizeCode } from '../../../src/codes/normalize';
import { api, unwrap, type ListType } from '../api';
import { Field } from '../components/Field';
import { CapField, EndsField, type CapMode } from './lists/ListFields';
import { OutcomeFields, outcomeOf, outcomeProblems, type OutcomeDraft } from './lists/OutcomeFields';
import { useCatalog } from './lists/useCatalog';
import { topError } from '../components/Feedback';
import { TYPE_EXPLANATIONS, TYPE_LABELS } from './lists/labels';
import { fieldError, fromLocalInput, serverFieldErrors, toLocalInput, wholeNumber } from './lists/forms';
import { PAGES, listPath } from '../paths';
import { DESCRIPTION_MAX, NAME_MAX } from '../../../src/http/limits';

const TYPES: ListType[] = ['single_use', 'multi_use', 'third_party'];
const SHOWN = ['name', 'description', 'type', 'code', 'starts_at', 'ends_at', 'redemption_cap', 'outcome'];

export function CreateListPage() {
  const navigate = useNavigate();
  const typeId = useId();
  const catalog = useCatalog();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [type, setType] = useState<ListType>('single_use');
  const [code, setCode] = useState('');
  const [starts, setStarts] = useState(() => toLocalInput(new Date()));
  const [ends, setEnds] = useState('');
  const [capMode, setCapMode] = useState<CapMode>('none');
  const [cap, setCap] = useState('');
  const [outcome, setOutcome] = useState<OutcomeDraft>({ amount: '', account: '', source: '', offers: [], tags: '' });
  const [attempted, setAttempted] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);

  // Once the catalog is here, preselect the usual account and source (or the only ones).
  useEffect(() => {
    const data = catalog.data;
    if (!data) return;
    setOutcome((draft) => ({
      ...draft,
      account: draft.account || (data.accounts.find((a) => a.key === 'spendable') ?? data.accounts[0])?.key || '',
      source: draft.source || (data.sources.find((s) => s.key === 'promo_code') ?? data.sources[0])?.key || '',
    }));
  }, [catalog.data]);

  function problems(): Record<string, string> {
    const found: Record<string, string> = {};
    if (!name.trim()) found.name = 'Give the list a name (only people running the program see it).';
    else if (name.trim().length > 200) found.name = 'Use at most 200 characters.';
    if (description.length > 2000) found.description = 'Use at most 2,000 characters.';
    if (type === 'multi_use') {
      // The service's own code rules (src/codes/normalize.ts): the form says so before the server does.
      if (!code.trim()) found.code = 'Name the code customers will type, e.g. SpringSale.';
      else if (codeProblem(normalizeCode(code)) !== null)
        found.code = 'Use 3–64 letters A–Z and digits 0–9 (spaces and dashes are ignored).';
    }
    const startsAt = fromLocalInput(starts);
    if (!startsAt) found.starts_at = 'Enter when the list starts.';
    if (ends && !fromLocalInput(ends)) found.ends_at = 'Enter a valid date and time, or tick "No end date".';
    else if (ends && startsAt && new Date(fromLocalInput(ends)!) <= new Date(startsAt))
      found.ends_at = 'The end must be after the start.';
    if (capMode === 'cap' && !(wholeNumber(cap) >= 1 && wholeNumber(cap) <= 2_000_000_000)) {
      found.redemption_cap = 'Enter a whole number of claims of at least 1, or choose "Don\'t cap".';
    }
    return { ...found, ...outcomeProblems(outcome) };
  }

  const local = attempted ? problems() : {};
  const server = serverFieldErrors(failure);
  const errors = { ...server, ...local };
  const topMessage = topError(failure, SHOWN);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setAttempted(true);
    setFailure(null);
    if (Object.keys(problems()).length) return;
    setBusy(true);
    try {
      const created = await unwrap(
        api.POST('/v1/lists', {
          body: {
            name: name.trim(),
            ...(description.trim() ? { description: description.trim() } : {}),
            type,
            ...(type === 'multi_use' ? { code: code.trim() } : {}),
            starts_at: fromLocalInput(starts) ?? undefined, // never empty here: problems() requires it
            ends_at: ends ? fromLocalInput(ends) : null,
            redemption_cap: capMode === 'cap' ? wholeNumber(cap) : null,
            outcome: outcomeOf(outcome),
          },
        }),
      );
      navigate(listPath(created.id));
    } catch (caught) {
      setFailure(caught);
      setBusy(false);
    }
  }

  return (
    <section>
      <div className="page-head">
        <h1>Create promo code list</h1>
        <Link to={PAGES.lists}>Back to lists</Link>
      </div>
      <form className="card lists-form" onSubmit={submit} noValidate aria-label="Create promo code list">
        {topMessage && (
          <div className="alert error" role="alert">
            {topMessage}
          </div>
        )}
        {attempted && Object.keys(local).length > 0 && (
          <div className="alert warn" role="status">
            Some fields need attention; see the messages below them.
          </div>
        )}

        <div className="grid-2">
          <div>
            <Field label="Name" error={fieldError(errors, 'name')} hint="Internal: customers never see it.">
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
          </div>
          <fieldset className="lists-types">
            <legend>Type</legend>
            {TYPES.map((value) => (
              <div key={value} className="lists-type">
                <label>
                  <input
                    type="radio"
                    name={`${typeId}-type`}
                    value={value}
                    checked={type === value}
                    onChange={() => setType(value)}
                    aria-describedby={`${typeId}-${value}`}
                  />
                  {TYPE_LABELS[value]}
                </label>
                <small id={`${typeId}-${value}`} className="muted">
                  {TYPE_EXPLANATIONS[value]}
                </small>
              </div>
            ))}
            {type === 'multi_use' && (
              <Field
                label="Code"
                error={fieldError(errors, 'code')}
                hint="What customers type. Matched ignoring case, spaces and dashes."
              >
                {(props) => (
                  <input
                    {...props}
                    type="text"
                    className="mono"
                    maxLength={128}
                    placeholder="SpringSale"
                    value={code}
                    onChange={(e) => setCode(e.target.value)}
                  />
                )}
              </Field>
            )}
          </fieldset>
        </div>

        <div className="grid-2">
          <Field
            label="Starts"
            error={fieldError(errors, 'starts_at')}
            hint="Claims open at this moment (your local time)."
          >
            {(props) => (
              <input
                {...props}
                type="datetime-local"
                required
                value={starts}
                onChange={(e) => setStarts(e.target.value)}
              />
            )}
          </Field>
          <EndsField value={ends} onChange={setEnds} error={fieldError(errors, 'ends_at')} />
        </div>

        <CapField
          mode={capMode}
          amount={cap}
          onMode={setCapMode}
          onAmount={setCap}
          error={fieldError(errors, 'redemption_cap')}
          hint="The most successful claims this list will ever allow; it completes when reached."
        />

        <OutcomeFields
          draft={outcome}
          onChange={setOutcome}
          catalog={catalog.data}
          catalogError={catalog.error}
          onRetryCatalog={catalog.reload}
          errors={{
            outcome: errors.outcome,
            amount: fieldError(errors, 'outcome.points.amount') ?? errors['outcome.points'],
            account: fieldError(errors, 'outcome.points.account'),
            source: fieldError(errors, 'outcome.points.source'),
            offers: fieldError(errors, 'outcome.offers'),
            tags: fieldError(errors, 'outcome.tags'),
          }}
        />

        <div className="actions">
          <Link to={PAGES.lists} className="button">
            Cancel
          </Link>
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Creating…' : 'Create list'}
          </button>
        </div>
      </form>
    </section>
  );
}
