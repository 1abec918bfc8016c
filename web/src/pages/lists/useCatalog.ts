// The catalog (point accounts, point sources, offers) for outcome pickers and for describing an
// outcome in words. The catalog is small; one page of up to 1000 of each is read.
import { api, type Page } from '../../api';
import { useLoad } from '../../hooks';
import type { Offer, PointKind } from '../../domain';

export interface Catalog {
  accounts: PointKind[];
  sources: PointKind[];
  offers: Offer[];
}

export function useCatalog() {
  return useLoad<Catalog>(async () => {
    const [accounts, sources, offers] = await Promise.all([
      api.get<Page<PointKind>>('/point-accounts?limit=1000'),
      api.get<Page<PointKind>>('/point-sources?limit=1000'),
      api.get<Page<Offer>>('/offers?limit=1000'),
    ]);
    return { accounts: accounts.items, sources: sources.items, offers: offers.items };
  }, []);
}
