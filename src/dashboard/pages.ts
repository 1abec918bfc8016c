// The dashboard's pages and their paths, in one list: web/src/App.tsx routes them, the app's links
// are made from them, and the service answers the app's page on them (dashboard.plugin.ts). Free of
// imports, so the dashboard imports it as it imports src/codes, and the service never reads web/.

/** Each page's path as react-router matches it: `:id` is one segment, a last `/*` the page's own tabs. */
export const PAGES = {
  home: '/',
  login: '/login',
  lists: '/lists',
  newList: '/lists/new',
  list: '/lists/:id',
  codes: '/codes',
  troubleshoot: '/troubleshoot',
  customers: '/customers',
  customer: '/customers/:id',
  settings: '/settings/*',
} as const;

export type PageName = keyof typeof PAGES;
