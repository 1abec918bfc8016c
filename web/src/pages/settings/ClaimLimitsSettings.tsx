// Claim limits: how many claims one customer may make per rolling week, month and year.
import { useEffect, useState, type FormEvent } from 'react';
import { api, ApiError, unwrap, type ClaimLimits } from '../../api';
import { useLoad } from '../../hooks';
import { ErrorMessage, Loading } from '../../components/Feedback';
import { Field } from '../../components/Field';
import { NoticeBar, useAction } from '../../components/Notice';

const PERIODS = [
  { key: 'per_week', label: 'Per week', hint: 'Rolling 7 days.' },
  { key: 'per_month', label: 'Per month', hint: 'Rolling month.' },
  { key: 'per_year', label: 'Per year', hint: 'Rolling year.' },
] as const;

type Form = Record<keyof ClaimLimits, string>;

const toForm = (limits: ClaimLimits): Form => ({
  per_week: limits.per_week?.toString() ?? '',
  per_month: limits.per_month?.toString() ?? '',
  per_year: limits.per_year?.toString() ?? '',
});

const limitOf = (value: string) => (value.trim() === '' ? null : Number(value));
const toLimits = (form: Form): ClaimLimits => ({
  per_week: limitOf(form.per_week),
  per_month: limitOf(form.per_month),
  per_year: limitOf(form.per_year),
});

function check(value: string): string | undefined {
  if (value.trim() === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1_000_000)
    return 'A whole number from 1 to 1,000,000, or empty for no limit.';
  return undefined;
}

export function ClaimLimitsSettings() {
  const { data, error, loading, reload } = useLoad(() => unwrap(api.GET('/v1/settings/claim-limits')), []);
  const [form, setForm] = useState<Form>({ per_week: '', per_month: '', per_year: '' });
  const [serverErrors, setServerErrors] = useState<Record<string, string>>({});
  const action = useAction();

  useEffect(() => {
    if (data) setForm(toForm(data));
  }, [data]);

  if (loading && !data) return <Loading />;
  if (error) return <ErrorMessage error={error} onRetry={reload} />;

  const errors = Object.fromEntries(PERIODS.map(({ key }) => [key, check(form[key]) ?? serverErrors[key]]));

  async function save(event: FormEvent) {
    event.preventDefault();
    if (Object.values(errors).some(Boolean)) return;
    setServerErrors({});
    const saved = await action.run(
      () =>
        unwrap(api.PUT('/v1/settings/claim-limits', { body: toLimits(form) })).catch((failure: unknown) => {
          if (failure instanceof ApiError) setServerErrors(failure.fieldErrors());
          throw failure;
        }),
      (limits) => {
        const set = PERIODS.filter(({ key }) => limits[key] !== null).map(
          ({ key, label }) => `${limits[key]} ${label.toLowerCase()}`,
        );
        return set.length
          ? `Claim limits saved: ${set.join(', ')}. They apply to the next claim.`
          : 'Claim limits saved: no limits.';
      },
    );
    if (saved) setForm(toForm(saved));
  }

  return (
    <form className="card ops-limits" onSubmit={save} noValidate aria-labelledby="limits-title">
      <h2 id="limits-title">Claim limits</h2>
      <p className="muted">
        How many codes one customer may claim. Leave a period empty for no limit. Reversed claims do not count. A claim
        over a limit is refused with <code>customer_limit_reached</code>.
      </p>
      <NoticeBar notice={action.notice} onDismiss={() => action.setNotice(null)} />
      <div className="grid-3">
        {PERIODS.map(({ key, label, hint }) => (
          <Field key={key} label={label} error={errors[key]} hint={`${hint} Empty = no limit.`}>
            {(props) => (
              <input
                {...props}
                type="number"
                inputMode="numeric"
                min={1}
                max={1_000_000}
                step={1}
                placeholder="No limit"
                value={form[key]}
                onChange={(e) => setForm((before) => ({ ...before, [key]: e.target.value }))}
              />
            )}
          </Field>
        ))}
      </div>
      <div className="actions">
        <button type="submit" className="primary" disabled={action.busy}>
          {action.busy ? 'Saving…' : 'Save'}
        </button>
      </div>
    </form>
  );
}
