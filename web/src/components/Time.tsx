import { formatDate, formatMoment } from '../format';

/** A timestamp in the viewer's locale, with the exact UTC time on hover; `precise` adds seconds. */
export function Time({ at, precise }: { at: string | null | undefined; precise?: boolean }) {
  if (!at) return <span className="muted">—</span>;
  return (
    <time dateTime={at} title={new Date(at).toISOString()}>
      {precise ? formatMoment(at) : formatDate(at)}
    </time>
  );
}
