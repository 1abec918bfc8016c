// Downloads of a list's, a batch's or an import's codes.

/** Link targets of the admin exports (the session cookie authenticates these GETs). */
export const exportHref = (kind: 'batches' | 'imports' | 'lists', id: string, format: 'xlsx' | 'csv') =>
  `/v1/${kind}/${encodeURIComponent(id)}/export?format=${format}`;

/** "Export .xlsx" and "Export .csv" for a batch or an import (plain links: the cookie authenticates the GET). */
export function ExportLinks({ kind, id }: { kind: 'batches' | 'imports'; id: string }) {
  return (
    <span className="lists-exports">
      <a href={exportHref(kind, id, 'xlsx')} download>
        Export .xlsx
      </a>
      <a href={exportHref(kind, id, 'csv')} download>
        Export .csv
      </a>
    </span>
  );
}
