// Addresses of the dashboard's pages, made from the one list of them (src/dashboard/pages.ts), which
// the service also answers the app on. Path parameters are encoded; query values too.
import { generatePath } from 'react-router';
import { PAGES } from '../../src/dashboard/pages';

export { PAGES, type PageName } from '../../src/dashboard/pages';

/** `?name=value&…` of the values that are set, in the order given, or '' when none is. */
function query(values: Record<string, string | undefined>): string {
  const parts = Object.entries(values)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `${name}=${encodeURIComponent(value)}`);
  return parts.length > 0 ? `?${parts.join('&')}` : '';
}

export const listPath = (id: string) => generatePath(PAGES.list, { id });
export const customerPath = (id: string) => generatePath(PAGES.customer, { id });
/** The code search, opened on `code`. */
export const codePath = (code: string) => `${PAGES.codes}${query({ code })}`;
/** The troubleshooter, asked about a code, a customer or both. */
export const troubleshootPath = (asked: { code?: string; customer_id?: string }) =>
  `${PAGES.troubleshoot}${query({ code: asked.code, customer_id: asked.customer_id })}`;
/** Settings, on one of its tabs or (without one) on the first. */
export const settingsPath = (tab?: string) => generatePath(PAGES.settings, { '*': tab ?? '' });
