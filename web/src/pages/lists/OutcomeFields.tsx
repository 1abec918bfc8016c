// The outcome of a new list: points (amount, account, source), offers from the catalog (1–10)
// and tags (1–20). At least one of the three.
import { useId } from 'react';
import { Link } from 'react-router';
import { Field } from '../../components/Field';
import { ErrorMessage, Loading } from '../../components/Feedback';
import type { Catalog } from './useCatalog';
import type { Outcome } from '../../api';
import { wholeNumber } from './forms';
import { settingsPath } from '../../paths';

export interface OutcomeDraft {
  amount: string;
  account: string;
  source: string;
  offers: string[];
  tags: string;
}

export const MAX_OFFERS = 10;
export const MAX_TAGS = 20;

/** The tags typed, split on commas, trimmed, without blanks or repeats. */
export function parseTags(text: string): string[] {
  return [
    ...new Set(
      text
        .split(',')
        .map((tag) => tag.trim())
        .filter(Boolean),
    ),
  ];
}

/** Problems a person can fix before sending, keyed like the service's field errors. */
export function outcomeProblems(draft: OutcomeDraft): Record<string, string> {
  const problems: Record<string, string> = {};
  const tags = parseTags(draft.tags);
  const hasPoints = draft.amount.trim() !== '';
  if (hasPoints) {
    const amount = wholeNumber(draft.amount);
    if (!(amount >= 1 && amount <= 1_000_000_000))
      problems['outcome.points.amount'] = 'Enter a whole number of points from 1 to 1,000,000,000.';
    if (!draft.account) problems['outcome.points.account'] = 'Choose the account the points go to.';
    if (!draft.source) problems['outcome.points.source'] = 'Choose where the points come from.';
  }
  if (draft.offers.length > MAX_OFFERS) problems['outcome.offers'] = `Choose at most ${MAX_OFFERS} offers.`;
  if (tags.length > MAX_TAGS) problems['outcome.tags'] = `Use at most ${MAX_TAGS} tags.`;
  else if (tags.some((tag) => tag.length > 64)) problems['outcome.tags'] = 'A tag can be at most 64 characters.';
  if (!hasPoints && draft.offers.length === 0 && tags.length === 0)
    problems.outcome = 'Give customers something: points, offers or tags.';
  return problems;
}

/** The outcome to send, from a draft without problems. */
export function outcomeOf(draft: OutcomeDraft): Outcome {
  const outcome: Outcome = {};
  if (draft.amount.trim() !== '')
    outcome.points = { amount: wholeNumber(draft.amount), account: draft.account, source: draft.source };
  if (draft.offers.length) outcome.offers = draft.offers;
  const tags = parseTags(draft.tags);
  if (tags.length) outcome.tags = tags;
  return outcome;
}

export function OutcomeFields({
  draft,
  onChange,
  errors,
  catalog,
  catalogError,
  onRetryCatalog,
}: {
  draft: OutcomeDraft;
  onChange: (draft: OutcomeDraft) => void;
  errors: { outcome?: string; amount?: string; account?: string; source?: string; offers?: string; tags?: string };
  catalog: Catalog | undefined;
  catalogError: unknown;
  onRetryCatalog: () => void;
}) {
  const id = useId();
  const set = (changes: Partial<OutcomeDraft>) => onChange({ ...draft, ...changes });
  const tags = parseTags(draft.tags);
  const toggleOffer = (offerId: string, on: boolean) =>
    set({ offers: on ? [...draft.offers, offerId] : draft.offers.filter((existing) => existing !== offerId) });

  return (
    <fieldset className="lists-outcome" aria-describedby={errors.outcome ? `${id}-outcome` : undefined}>
      <legend>Outcome</legend>
      <p className="muted lists-note">
        What a customer receives on each claim: points, offers, tags, or any mix. It can't change later.
      </p>
      {errors.outcome && (
        <p id={`${id}-outcome`} className="field-error" role="alert">
          {errors.outcome}
        </p>
      )}
      <ErrorMessage error={catalogError} onRetry={onRetryCatalog} />
      {!catalog && !catalogError && <Loading what="Loading the catalog" />}

      <div className="grid-3">
        <Field label="Points" error={errors.amount} hint="Leave empty to give no points.">
          {(props) => (
            <input
              {...props}
              type="number"
              min={1}
              step={1}
              inputMode="numeric"
              value={draft.amount}
              onChange={(e) => set({ amount: e.target.value })}
            />
          )}
        </Field>
        <Field label="Account" error={errors.account}>
          {(props) => (
            <select {...props} value={draft.account} onChange={(e) => set({ account: e.target.value })}>
              <option value="">Choose an account</option>
              {catalog?.accounts.map((account) => (
                <option key={account.key} value={account.key}>
                  {account.name} ({account.key})
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Source" error={errors.source}>
          {(props) => (
            <select {...props} value={draft.source} onChange={(e) => set({ source: e.target.value })}>
              <option value="">Choose a source</option>
              {catalog?.sources.map((source) => (
                <option key={source.key} value={source.key}>
                  {source.name} ({source.key})
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>

      <fieldset
        className={errors.offers ? 'lists-offers has-error' : 'lists-offers'}
        aria-describedby={errors.offers ? `${id}-offers` : undefined}
      >
        <legend>Offers</legend>
        {catalog && catalog.offers.length === 0 && (
          <p className="muted">
            The catalog has no offers yet. {<Link to={settingsPath()}>Add offers in Settings</Link>}.
          </p>
        )}
        <div className="lists-checks">
          {catalog?.offers.map((offer) => (
            <label key={offer.id} className="check" title={offer.description ?? undefined}>
              <input
                type="checkbox"
                checked={draft.offers.includes(offer.id)}
                disabled={!draft.offers.includes(offer.id) && draft.offers.length >= MAX_OFFERS}
                onChange={(e) => toggleOffer(offer.id, e.target.checked)}
              />
              {offer.name}
            </label>
          ))}
        </div>
        {catalog && catalog.offers.length > 0 && (
          <small className="hint muted">
            Up to {MAX_OFFERS}. {draft.offers.length} chosen.
          </small>
        )}
        {errors.offers && (
          <small id={`${id}-offers`} className="field-error" role="alert">
            {errors.offers}
          </small>
        )}
      </fieldset>

      <Field
        label="Tags"
        error={errors.tags}
        hint={`Comma-separated, up to ${MAX_TAGS}; added to the customer's profile.`}
      >
        {(props) => (
          <input
            {...props}
            type="text"
            placeholder="vip, spring-2026"
            value={draft.tags}
            onChange={(e) => set({ tags: e.target.value })}
          />
        )}
      </Field>
      {tags.length > 0 && (
        <ul className="lists-chips" aria-label="Tags to add">
          {tags.map((tag) => (
            <li key={tag}>
              {tag}
              <button
                type="button"
                className="icon"
                aria-label={`Remove tag ${tag}`}
                onClick={() => set({ tags: tags.filter((t) => t !== tag).join(', ') })}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
    </fieldset>
  );
}
