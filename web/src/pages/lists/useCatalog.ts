// The catalog (point accounts, point sources, offers) for outcome pickers and for describing an
// outcome in words. The catalog is small; one page of up to 1000 of each is read.
import { api, unwrap } from '../../api';
import { useLoad } from '../../hooks';

const limit = { params: { query: { limit: 1000 } } };

async function loadCatalog() {
  const [accounts, sources, offers] = await Promise.all([
    unwrap(api.GET('/v1/point-accounts', limit)),
    unwrap(api.GET('/v1/point-sources', limit)),
    unwrap(api.GET('/v1/offers', limit)),
  ]);
  return { accounts: accounts.items, sources: sources.items, offers: offers.items };
}

export type Catalog = Awaited<ReturnType<typeof loadCatalog>>;

export function useCatalog() {
  return useLoad(loadCatalog, []);
}
