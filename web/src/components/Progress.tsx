import { formatCount } from '../format';

/** A progress bar with the figures beside it ("1,200 of 5,000"), exposed as a progressbar. */
export function Progress({ done, total, label, text }: { done: number; total: number; label: string; text?: string }) {
  const fraction = total > 0 ? Math.min(1, done / total) : 0;
  return (
    <div className="lists-progress">
      <div
        className="progress"
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={total}
        aria-valuenow={Math.min(done, total)}
        aria-valuetext={text ?? `${formatCount(done)} of ${formatCount(total)}`}
      >
        <span style={{ width: `${(fraction * 100).toFixed(1)}%` }} />
      </div>
      <span className="muted">{text ?? `${formatCount(done)} of ${formatCount(total)}`}</span>
    </div>
  );
}
