// Lengths that the API's schemas enforce and the dashboard's forms repeat to the user; a module
// of plain numbers, so that the dashboard can import it without the schema library.

/** The longest name of a list, batch, import, offer, API key, operator or customer. */
export const NAME_MAX = 200;
/** The longest description of a list or an offer. */
export const DESCRIPTION_MAX = 2000;
