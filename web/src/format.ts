// How values read on screen: dates in the viewer's locale, counts with separators, ∞ for no cap.
export const formatDate = (iso: string | null | undefined) =>
  iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : '—';
/** A date inside a sentence: "… ended on 4 Dec 2026, 19:05", or "an unknown time" without one. */
export const dateInText = (iso: string | null | undefined) => (iso ? formatDate(iso) : 'an unknown time');
/** A date to the second, for timelines, where several entries share a minute. */
export const formatMoment = (iso: string) =>
  new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
export const formatCount = (n: number | string | null | undefined) =>
  n === null || n === undefined ? '∞' : Number(n).toLocaleString('en-US');
