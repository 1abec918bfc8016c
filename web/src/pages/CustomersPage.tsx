// Customers: look one up by ID (there is no list of customers), then their profile —
// state, balances, issued offers, tags, claims and failed attempts — with agent actions.
import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api, unwrap, isNotFound } from '../api';
import { useLoad } from '../hooks';
import { Empty, ErrorMessage, Loading } from '../components/Feedback';
import { StatusTag } from '../components/StatusTag';
import { formatCount } from '../format';
import { ClaimsTable } from './claims/ClaimsTable';
import { CustomerActions } from './customers/CustomerActions';
import { LoadMore, PagedTable, usePaged } from '../components/PagedTable';
import { NoticeBar, useAction } from '../components/Notice';
import { reasonText } from '../refusals';
import { Time } from '../components/Time';
import { PAGES, customerPath, troubleshootPath } from '../paths';

export function CustomersPage() {
  const { id } = useParams();
  return id ? <Profile key={id} id={id} /> : <Lookup />;
}

function Lookup({ initial = '' }: { initial?: string }) {
  const navigate = useNavigate();
  const [text, setText] = useState(initial);
  function submit(event: FormEvent) {
    event.preventDefault();
    if (text.trim()) navigate(customerPath(text.trim()));
  }
  return (
    <section>
      <div className="page-head">
        <h1>Customers</h1>
      </div>
      <form className="card ops-search" onSubmit={submit} role="search">
        <div className="field ops-grow">
          <label htmlFor="customer-lookup">Customer ID</label>
          <input
            id="customer-lookup"
            value={text}
            onChange={(e) => setText(e.target.value)}
            required
            maxLength={128}
            autoComplete="off"
            spellCheck={false}
            aria-describedby="customer-lookup-hint"
          />
          <small id="customer-lookup-hint" className="hint">
            The ID your app registered the customer under, matched exactly.
          </small>
        </div>
        <button type="submit" className="primary">
          Open customer
        </button>
      </form>
    </section>
  );
}

function Profile({ id }: { id: string }) {
  const profile = useLoad(() => unwrap(api.GET('/v1/customers/{id}', { params: { path: { id } } })), [id]);
  const claims = usePaged(id, (cursor) =>
    unwrap(api.GET('/v1/customers/{id}/claims', { params: { path: { id }, query: { cursor } } })),
  );
  const failed = usePaged(id, (cursor) =>
    unwrap(api.GET('/v1/customers/{id}/attempts', { params: { path: { id }, query: { result: 'failed', cursor } } })),
  );
  const action = useAction();
  const refresh = () => {
    profile.reload();
    claims.reload();
    failed.reload();
  };

  if (profile.loading && !profile.data) return <Loading what="Loading the customer" />;
  if (isNotFound(profile.error))
    return (
      <>
        <Lookup initial={id} />
        <Empty title={`No customer “${id}”`}>
          No registered customer has this ID. IDs are matched exactly, including case.
        </Empty>
      </>
    );
  if (profile.error) return <ErrorMessage error={profile.error} onRetry={profile.reload} />;
  const customer = profile.data;
  if (!customer) return null;

  return (
    <section>
      <p className="ops-back">
        <Link to={PAGES.customers}>← Find another customer</Link>
      </p>
      <div className="page-head">
        <h1>
          {customer.name || customer.id}{' '}
          {customer.blocked ? (
            <StatusTag status="blocked" />
          ) : customer.locked_out_until ? (
            <StatusTag status="locked_out" />
          ) : (
            <StatusTag status="active" />
          )}
        </h1>
        <div className="ops-buttons">
          <Link className="button" to={troubleshootPath({ customer_id: customer.id })}>
            Troubleshoot
          </Link>
          <CustomerActions
            customerId={customer.id}
            blocked={customer.blocked}
            lockedOutUntil={customer.locked_out_until}
            action={action}
            onChanged={refresh}
          />
        </div>
      </div>
      <NoticeBar notice={action.notice} onDismiss={() => action.setNotice(null)} />

      <div className="grid-2">
        <section className="card" aria-labelledby="cust-facts">
          <h2 id="cust-facts">Profile</h2>
          <dl className="facts">
            <dt>Customer ID</dt>
            <dd className="mono">{customer.id}</dd>
            <dt>Name</dt>
            <dd>{customer.name || <span className="muted">—</span>}</dd>
            <dt>Email</dt>
            <dd>{customer.email || <span className="muted">—</span>}</dd>
            <dt>Registered</dt>
            <dd>
              <Time at={customer.created_at} />
            </dd>
            <dt>Blocked</dt>
            <dd className={customer.blocked ? 'ops-bad' : undefined}>
              {customer.blocked ? (
                <>
                  Since <Time at={customer.blocked_at} />
                  {customer.blocked_reason && <> — {customer.blocked_reason}</>}
                </>
              ) : (
                'No'
              )}
            </dd>
            <dt>Locked out</dt>
            <dd className={customer.locked_out_until ? 'ops-bad' : undefined}>
              {customer.locked_out_until ? (
                <>
                  Until <Time at={customer.locked_out_until} /> (too many unknown codes)
                </>
              ) : (
                'No'
              )}
            </dd>
          </dl>
        </section>
        <section className="card" aria-labelledby="cust-points">
          <h2 id="cust-points">Points and tags</h2>
          {customer.points.length === 0 ? (
            <p className="muted">No points yet.</p>
          ) : (
            <table>
              <caption className="ops-caption">Point balances</caption>
              <thead>
                <tr>
                  <th scope="col">Account</th>
                  <th scope="col" className="num">
                    Balance
                  </th>
                </tr>
              </thead>
              <tbody>
                {customer.points.map((p) => (
                  <tr key={p.account}>
                    <td>{p.account}</td>
                    <td className="num">{formatCount(p.balance)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h3 className="ops-section">Tags</h3>
          {customer.tags.length === 0 ? (
            <p className="muted">No tags.</p>
          ) : (
            <ul className="ops-chips" aria-label="Tags">
              {customer.tags.map((tag) => (
                <li key={tag} className="tag grey">
                  {tag}
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>

      <section className="card" aria-labelledby="cust-offers">
        <h2 id="cust-offers">Issued offers</h2>
        {customer.offers.length === 0 ? (
          <p className="muted">No offers issued.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Offer</th>
                <th scope="col">Offer ID</th>
                <th scope="col">Issued</th>
                <th scope="col">By claim</th>
              </tr>
            </thead>
            <tbody>
              {customer.offers.map((o) => (
                <tr key={o.id}>
                  <td>{o.name}</td>
                  <td className="mono">{o.offer_id}</td>
                  <td>
                    <Time at={o.issued_at} />
                  </td>
                  <td>{o.claim_id ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section className="card" aria-labelledby="cust-claims">
        <h2 id="cust-claims">Claims</h2>
        {claims.error ? (
          <ErrorMessage error={claims.error} onRetry={claims.reload} />
        ) : claims.loading && claims.items.length === 0 ? (
          <Loading what="Loading claims" />
        ) : (
          <ClaimsTable
            claims={claims.items}
            action={action}
            onChanged={refresh}
            showCustomer={false}
            caption={`Claims of ${customer.id}`}
            empty="This customer has not claimed any code."
          />
        )}
        <LoadMore paged={claims} />
      </section>

      <section className="card" aria-labelledby="cust-failed">
        <h2 id="cust-failed">Failed attempts</h2>
        <PagedTable
          paged={failed}
          columns={['When', 'Kind', 'Code', 'Reason']}
          loading="Loading attempts"
          empty="No failed attempts."
          row={(a) => (
            <tr key={a.id}>
              <td className="ops-nowrap">
                <Time at={a.at} />
              </td>
              <td>{a.kind === 'claim' ? 'Claim' : 'Validate'}</td>
              <td>
                <Link className="mono" to={troubleshootPath({ code: a.code, customer_id: a.customer_id })}>
                  {a.code}
                </Link>
              </td>
              <td>
                <code>{a.reason}</code> <span className="muted">{reasonText(a.reason)}</span>
              </td>
            </tr>
          )}
        />
      </section>
    </section>
  );
}
