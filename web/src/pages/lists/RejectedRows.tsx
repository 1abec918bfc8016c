// An import's rejected rows in words: the first 100 in a table, the rest in the CSV report.
import { api, unwrap, type Import, type Rejection } from '../../api';
import { useLoad } from '../../hooks';
import { formatCount } from '../../format';
import { ErrorMessage, Loading } from '../../components/Feedback';

const SHOWN = 100;

const DETAILS: Record<NonNullable<Rejection['detail']>, string> = {
  too_short: 'fewer than 3 letters or digits',
  too_long: 'more than 64 letters or digits',
  bad_characters: 'characters other than A–Z and 0–9',
};

function why(row: Rejection): string {
  if (row.reason === 'code_taken') return 'Another list or upload already has this code';
  if (row.reason === 'duplicate')
    return row.repeats_line ? `Repeats line ${formatCount(row.repeats_line)}` : 'Repeats an earlier line';
  return row.detail ? `Not a valid code: ${DETAILS[row.detail]}` : 'Not a valid code';
}

export function RejectedRows({ item }: { item: Import }) {
  const rows = useLoad(
    () =>
      unwrap(api.GET('/v1/imports/{id}/rejections', { params: { path: { id: item.id }, query: { limit: SHOWN } } })),
    [item.id],
  );
  const report = `/v1/imports/${encodeURIComponent(item.id)}/report`;
  return (
    <div className="lists-rejections">
      <ErrorMessage error={rows.error} onRetry={rows.reload} />
      {!rows.data && rows.loading && <Loading what="Loading the rejected rows" />}
      {rows.data && (
        <table>
          <caption>
            Rejected rows of {item.name ?? `import ${item.id}`}
            {item.rejected > rows.data.items.length && (
              <>
                {' '}
                (the first {formatCount(rows.data.items.length)} of {formatCount(item.rejected)};{' '}
                <a href={report} download>
                  all in the report
                </a>
                )
              </>
            )}
          </caption>
          <thead>
            <tr>
              <th scope="col" className="num">
                Line
              </th>
              <th scope="col">Value</th>
              <th scope="col">Why</th>
            </tr>
          </thead>
          <tbody>
            {rows.data.items.map((row) => (
              <tr key={row.line}>
                <td className="num">{formatCount(row.line)}</td>
                <td>
                  <code>{row.value}</code>
                </td>
                <td>{why(row)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
