// "Generate codes" for a single-use list (POST /v1/lists/:id/batches): count, batch name, email
// alert and format, with a live sample and the possible-codes check of docs/product.md.
import { useMemo, useState, type FormEvent } from 'react';
import { ApiError, api, unwrap, type Batch, type Charset } from '../../api';
import { Modal } from '../../components/Modal';
import { Field } from '../../components/Field';
import { topError } from '../../components/Feedback';
import { formatCount } from '../../format';
import { splitEmails } from '../../domain';
import {
  CHARSETS,
  DEFAULT_FORMAT,
  FORMAT_LIMITS,
  formatCapacity,
  possibleCodes,
  type CodeFormat,
} from '../../../../src/codes/format';
import { AFFIX_PATTERN, CHARSET_LABELS, formatBig, lengthNeeded, sampleCode } from './codeFormat';
import { fieldError, serverFieldErrors, wholeNumber } from './forms';
import { NAME_MAX } from '../../../../src/http/limits';

const EMAIL = /^[^\s@,;]+@[^\s@,;]+\.[^\s@,;]+$/;
const SHOWN = ['count', 'name', 'notify', 'format'];
const { minLength, maxLength, maxAffix } = FORMAT_LIMITS;
const NOTIFY_HINT =
  'Optional: addresses to email when the batch is ready or fails, separated by commas. ' +
  'The email links here; it never contains codes.';

export function GenerateCodesModal({
  listId,
  onClose,
  onCreated,
}: {
  listId: string;
  onClose: () => void;
  onCreated: (batch: Batch) => void;
}) {
  const [count, setCount] = useState('');
  const [name, setName] = useState('');
  const [notify, setNotify] = useState('');
  const [length, setLength] = useState(String(DEFAULT_FORMAT.length));
  const [charset, setCharset] = useState<Charset>('unambiguous');
  const [prefix, setPrefix] = useState('');
  const [suffix, setSuffix] = useState('');
  const [shuffle, setShuffle] = useState(0);
  const [attempted, setAttempted] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);

  const lengthValue = wholeNumber(length);
  const lengthOk = lengthValue >= minLength && lengthValue <= maxLength;
  const format: CodeFormat | null =
    lengthOk && AFFIX_PATTERN.test(prefix) && AFFIX_PATTERN.test(suffix)
      ? { length: lengthValue, charset, prefix, suffix }
      : null;
  const countValue = wholeNumber(count);
  const emails = splitEmails(notify);
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new sample when the format or Shuffle changes only
  const sample = useMemo(
    () => (format ? sampleCode(format) : null),
    [format?.length, charset, prefix, suffix, shuffle],
  );
  const capacity = format ? formatCapacity(format) : null;
  const tooMany = capacity !== null && countValue >= 1 && BigInt(countValue) > capacity;
  const needed = tooMany && format ? lengthNeeded(countValue, format) : null;

  const local: Record<string, string> = {};
  if (!(countValue >= 1)) local.count = 'Enter how many codes to make: a whole number of at least 1.';
  if (!lengthOk) local['format.length'] = `Use a length from ${minLength} to ${maxLength}.`;
  if (!AFFIX_PATTERN.test(prefix)) local['format.prefix'] = `Up to ${maxAffix} letters A–Z or digits.`;
  if (!AFFIX_PATTERN.test(suffix)) local['format.suffix'] = `Up to ${maxAffix} letters A–Z or digits.`;
  const badEmail = emails.find((email) => !EMAIL.test(email));
  if (badEmail) local.notify = `"${badEmail}" is not an email address.`;
  else if (emails.length > 20) local.notify = 'At most 20 addresses.';
  const server = serverFieldErrors(failure);
  const errors = { ...server, ...(attempted ? local : {}) };
  const spaceFull = failure instanceof ApiError && failure.code === 'code_space_too_small';
  const topMessage = spaceFull ? spaceMessage(failure) : topError(failure, SHOWN);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setAttempted(true);
    setFailure(null);
    if (Object.keys(local).length || tooMany || !format) return;
    setBusy(true);
    try {
      const batch = await unwrap(
        api.POST('/v1/lists/{id}/batches', {
          params: { path: { id: listId } },
          body: {
            count: countValue,
            ...(name.trim() ? { name: name.trim() } : {}),
            ...(emails.length ? { notify: [...new Set(emails)] } : {}),
            format: {
              length: format.length,
              charset: format.charset,
              ...(prefix ? { prefix } : {}),
              ...(suffix ? { suffix } : {}),
            },
          },
        }),
      );
      onCreated(batch);
    } catch (caught) {
      setFailure(caught);
      setBusy(false);
    }
  }

  return (
    <Modal title="Generate codes" onClose={onClose} wide>
      <form onSubmit={submit} noValidate>
        {topMessage && (
          <div className={spaceFull ? 'alert warn' : 'alert error'} role="alert">
            {topMessage}
          </div>
        )}
        <div className="grid-2">
          <Field
            label="Number of codes"
            error={fieldError(errors, 'count')}
            hint="Up to 1,000,000 in one batch unless your service allows more."
          >
            {(props) => (
              <input
                {...props}
                type="number"
                min={1}
                step={1}
                inputMode="numeric"
                autoFocus
                value={count}
                onChange={(e) => setCount(e.target.value)}
              />
            )}
          </Field>
          <Field
            label="Batch name"
            error={fieldError(errors, 'name')}
            hint="Optional, to recognise it in the batch log."
          >
            {(props) => (
              <input
                {...props}
                type="text"
                maxLength={NAME_MAX}
                value={name}
                onChange={(e) => setName(e.target.value)}
              />
            )}
          </Field>
        </div>
        <Field label="Email alert" error={fieldError(errors, 'notify')} hint={NOTIFY_HINT}>
          {(props) => (
            <input
              {...props}
              type="text"
              inputMode="email"
              placeholder="ops@example.com"
              value={notify}
              onChange={(e) => setNotify(e.target.value)}
            />
          )}
        </Field>

        <fieldset className="lists-format-set">
          <legend>Code format</legend>
          <div className="lists-format">
            <Field label="Length" error={fieldError(errors, 'format.length')}>
              {(props) => (
                <input
                  {...props}
                  type="number"
                  min={minLength}
                  max={maxLength}
                  value={length}
                  onChange={(e) => setLength(e.target.value)}
                />
              )}
            </Field>
            <Field label="Characters" error={fieldError(errors, 'format.charset')}>
              {(props) => (
                <select {...props} value={charset} onChange={(e) => setCharset(e.target.value as Charset)}>
                  {(Object.keys(CHARSETS) as Charset[]).map((value) => (
                    <option key={value} value={value}>
                      {CHARSET_LABELS[value]}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <Field label="Prefix" error={fieldError(errors, 'format.prefix')}>
              {(props) => (
                <input
                  {...props}
                  type="text"
                  className="mono"
                  maxLength={16}
                  value={prefix}
                  onChange={(e) => setPrefix(e.target.value.toUpperCase().trim())}
                />
              )}
            </Field>
            <Field label="Suffix" error={fieldError(errors, 'format.suffix')}>
              {(props) => (
                <input
                  {...props}
                  type="text"
                  className="mono"
                  maxLength={16}
                  value={suffix}
                  onChange={(e) => setSuffix(e.target.value.toUpperCase().trim())}
                />
              )}
            </Field>
          </div>

          <div className="lists-sample" aria-live="polite">
            <span className="muted">Sample code</span>
            <code className="lists-sample-code">
              {sample && format ? (
                <>
                  <span className="lists-affix">{format.prefix}</span>
                  {sample.slice(format.prefix.length, sample.length - format.suffix.length)}
                  <span className="lists-affix">{format.suffix}</span>
                </>
              ) : (
                '—'
              )}
            </code>
            <button
              type="button"
              className="secondary small"
              onClick={() => setShuffle((n) => n + 1)}
              disabled={!format}
            >
              Another sample
            </button>
          </div>
          {format && capacity !== null && <SpaceNote format={format} capacity={capacity} />}
          {tooMany && (
            <div className="alert warn" role="alert">
              {formatCount(countValue)} codes is more than this format allows ({formatBig(capacity!)}).{' '}
              {needed ? `Use a length of ${needed} or more, or a larger character set.` : 'Use a larger character set.'}
            </div>
          )}
        </fieldset>

        <div className="actions">
          <button type="button" className="secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy || tooMany}>
            {busy ? 'Starting…' : 'Generate'}
          </button>
        </div>
      </form>
    </Modal>
  );
}

/** A full code space in words: how many more codes of this format fit. */
/** How many codes the format can spell, and how many of them may exist by the sparsity rule. */
function SpaceNote({ format, capacity }: { format: CodeFormat; capacity: bigint }) {
  const characters = CHARSETS[format.charset].length;
  return (
    <p className="muted lists-space">
      {formatBig(possibleCodes(format))} possible codes ({characters} characters, {format.length} long). To keep codes
      impossible to guess, at most 1 in 10,000 may exist: room for {formatBig(capacity)} codes in this format.
    </p>
  );
}

function spaceMessage(failure: unknown): string {
  const max = failure instanceof ApiError ? failure.details?.max_count : undefined;
  const room = `Codes already made in this format leave room for only ${formatCount(max ?? 0)} more.`;
  return `${room} Make fewer codes, or use a longer length, a larger character set or a prefix.`;
}
