// How values read on screen: dates in the viewer's locale, counts with separators, ∞ for no cap.
export const formatDate = (iso: string | null | undefined) =>
  iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : '—';
export const formatCount = (n: number | string | null | undefined) =>
  n === null || n === undefined ? '∞' : Number(n).toLocaleString('en-US');
