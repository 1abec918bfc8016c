// Form fields shared by "Create list" and "Edit list": the end date with "No end date", and the
// claim cap as "Don't cap" / "Cap at N".
import { useId } from 'react';
import { Field, FieldMessage, describedBy } from '../../components/Field';

export type CapMode = 'none' | 'cap';

/** Ends: a date and time, or none. Typing a date unticks "No end date"; ticking it clears the date. */
export function EndsField({
  value,
  onChange,
  error,
}: {
  value: string;
  onChange: (value: string) => void;
  error?: string;
}) {
  const checkId = useId();
  return (
    <Field label="Ends" error={error} hint="Claims close at this moment.">
      {(props) => (
        <div className="lists-inline">
          <input {...props} type="datetime-local" value={value} onChange={(e) => onChange(e.target.value)} />
          <span className="check">
            <input
              id={checkId}
              type="checkbox"
              checked={value === ''}
              onChange={(e) => e.target.checked && onChange('')}
            />
            <label htmlFor={checkId}>No end date</label>
          </span>
        </div>
      )}
    </Field>
  );
}

/** The cap on successful claims over the list's life. */
export function CapField({
  mode,
  amount,
  onMode,
  onAmount,
  error,
  hint,
}: {
  mode: CapMode;
  amount: string;
  onMode: (mode: CapMode) => void;
  onAmount: (amount: string) => void;
  error?: string;
  hint?: string;
}) {
  const id = useId();
  return (
    <fieldset className={error ? 'lists-cap has-error' : 'lists-cap'} aria-describedby={describedBy(id, error, hint)}>
      <legend>Claim cap</legend>
      <div className="radio-row">
        <label>
          <input type="radio" name={`${id}-cap`} checked={mode === 'none'} onChange={() => onMode('none')} />
          Don't cap
        </label>
        <label>
          <input type="radio" name={`${id}-cap`} checked={mode === 'cap'} onChange={() => onMode('cap')} />
          Cap at
        </label>
        <input
          type="number"
          min={1}
          step={1}
          inputMode="numeric"
          className="lists-cap-amount"
          aria-label="Maximum claims"
          aria-invalid={error ? true : undefined}
          value={amount}
          onChange={(e) => {
            onAmount(e.target.value);
            onMode('cap');
          }}
        />
        <span className="muted">claims</span>
      </div>
      <FieldMessage id={id} error={error} hint={hint} />
    </fieldset>
  );
}
