// Timestamps a client sends. Ajv's `date-time` takes leap seconds (23:59:60), which
// `new Date()` turns into NaN and PostgreSQL into the next minute, and years 0000–1969 that
// nothing here means; one reader decides what a timestamp is, for the schema check
// (http/validation.ts) and for the services that compare and store them.
import { invalid } from './errors';

// RFC 3339: date, T (or t, or a space), time, optional fraction, Z or an offset.
const RFC_3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;
const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(10000, 0, 1) - 1;

const daysIn = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

/** The instant `text` names, or why it is not a timestamp this service takes. */
function read(text: string): Date | string {
  const m = RFC_3339.exec(text);
  if (!m) return 'must be an ISO 8601 timestamp with a time zone, e.g. 2026-01-31T09:00:00Z';
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (year < 1970) return 'must be in the years 1970–9999';
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return `${m[1]}-${m[2]}-${m[3]} is not a date`;
  if (second === 60) return 'must not be a leap second (:60); use :59 or the next minute';
  if (hour > 23 || minute > 59 || second > 59) return `${m[4]}:${m[5]}:${m[6]} is not a time of day`;
  const [sign, offsetHours, offsetMins] = [m[9], Number(m[10] ?? 0), Number(m[11] ?? 0)];
  if (offsetHours > 23 || offsetMins > 59) return `${sign}${m[10]}:${m[11]} is not a time zone offset`;
  const offsetMinutes = (sign === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins);
  // Milliseconds are what Date and the responses carry; finer digits are dropped.
  const ms = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  const instant = Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMinutes * 60_000;
  if (instant < EARLIEST || instant > LATEST) return 'must be in the years 1970–9999 (UTC)';
  return new Date(instant);
}

/** Why `text` is not a timestamp this service takes, or null when it is one. */
export function timestampProblem(text: string): string | null {
  const result = read(text);
  return typeof result === 'string' ? result : null;
}

/** The instant a client's timestamp names; anything else is `400 validation_failed` at `path`. */
export function parseTimestamp(text: string, path: string): Date {
  const result = read(text);
  if (typeof result === 'string') throw invalid([{ path, message: result }]);
  return result;
}
