// Administer codes: find one code by its value, or the codes a customer claimed; cancel an
// unclaimed code, reverse a claim. The search lives in the URL (?code= / ?customer=).
import { useEffect, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api, unwrap, isNotFound } from '../api';
import { useLoad } from '../hooks';
import { Empty, ErrorMessage, Loading, inWords } from '../components/Feedback';
import { ClaimsTable } from './claims/ClaimsTable';
import { CodeCard } from './codes/CodeCard';
import { LoadMore, usePaged } from '../components/PagedTable';
import { NoticeBar, useAction } from '../components/Notice';
import { customerPath, troubleshootPath } from '../paths';

type Mode = 'code' | 'customer';

export function CodesPage() {
  const [params, setParams] = useSearchParams();
  const code = params.get('code')?.trim() || '';
  const customer = params.get('customer')?.trim() || '';
  const active: Mode = customer && !code ? 'customer' : 'code';
  const [mode, setMode] = useState<Mode>(active);
  const [text, setText] = useState(active === 'customer' ? customer : code);
  const action = useAction();

  // Follow the URL when it changes from outside (a link, back and forward).
  useEffect(() => {
    setMode(active);
    setText(active === 'customer' ? customer : code);
  }, [active, code, customer]);

  function submit(event: FormEvent) {
    event.preventDefault();
    const value = text.trim();
    action.setNotice(null);
    setParams(value ? { [mode]: value } : {});
  }

  return (
    <section>
      <div className="page-head">
        <h1>Administer codes</h1>
      </div>
      <form className="card ops-search" onSubmit={submit} role="search">
        <fieldset className="ops-toggle">
          <legend>Search by</legend>
          {(['code', 'customer'] as const).map((value) => (
            <label key={value}>
              <input
                type="radio"
                name="search-mode"
                value={value}
                checked={mode === value}
                onChange={() => setMode(value)}
              />
              {value === 'code' ? 'Code' : 'Customer'}
            </label>
          ))}
        </fieldset>
        <div className="field ops-grow">
          <label htmlFor="codes-search">Search codes</label>
          <input
            id="codes-search"
            type="search"
            value={text}
            onChange={(e) => setText(e.target.value)}
            placeholder={mode === 'code' ? 'A code in any form, e.g. spring-sale' : 'A customer ID, e.g. cust-1'}
            aria-describedby="codes-search-hint"
            autoComplete="off"
            spellCheck={false}
            maxLength={128}
            required
          />
          <small id="codes-search-hint" className="hint">
            {mode === 'code'
              ? 'Matches ignoring case, spaces and dashes.'
              : 'Shows the codes this customer claimed, newest first.'}
          </small>
        </div>
        <button type="submit" className="primary">
          Search
        </button>
      </form>

      <NoticeBar notice={action.notice} onDismiss={() => action.setNotice(null)} />
      {code ? (
        <CodeResult code={code} action={action} />
      ) : customer ? (
        <CustomerResult customerId={customer} action={action} />
      ) : (
        <Intro />
      )}
    </section>
  );
}

function Intro() {
  return (
    <Empty title="Find a code or a customer">
      Search by code to see its list, status and claims, or cancel it. Search by customer to see every code they claimed
      and reverse a claim.
    </Empty>
  );
}

function CodeResult({ code, action }: { code: string; action: ReturnType<typeof useAction> }) {
  const { data, error, loading, reload } = useLoad(
    () => unwrap(api.GET('/v1/codes/{code}', { params: { path: { code } } })),
    [code],
  );
  if (loading && !data) return <Loading what="Looking the code up" />;
  if (isNotFound(error))
    return (
      <Empty title={`No code “${code}”`}>
        No code matches this value. Codes match ignoring case, spaces and dashes; check the characters the customer read
        out. <Link to={troubleshootPath({ code })}>Troubleshoot it</Link>
      </Empty>
    );
  if (error)
    return (
      <div className="alert error" role="alert">
        {inWords(error)}
      </div>
    );
  if (!data) return null;
  return <CodeCard code={data} action={action} onChanged={reload} />;
}

function CustomerResult({ customerId, action }: { customerId: string; action: ReturnType<typeof useAction> }) {
  const claims = usePaged(customerId, (cursor) =>
    unwrap(api.GET('/v1/customers/{id}/claims', { params: { path: { id: customerId }, query: { cursor } } })),
  );
  if (claims.loading && claims.items.length === 0 && !claims.error)
    return <Loading what="Loading the customer's claims" />;
  if (isNotFound(claims.error))
    return (
      <Empty title={`No customer “${customerId}”`}>
        No registered customer has this ID. Customer IDs are matched exactly, including case.
      </Empty>
    );
  if (claims.error) return <ErrorMessage error={claims.error} onRetry={claims.reload} />;
  return (
    <section className="card" aria-labelledby="customer-claims-title">
      <div className="ops-card-head">
        <h2 id="customer-claims-title">
          Codes claimed by <span className="mono">{customerId}</span>
        </h2>
        <div className="ops-buttons">
          <Link className="button" to={customerPath(customerId)}>
            Open customer page
          </Link>
          <Link className="button" to={troubleshootPath({ customer_id: customerId })}>
            Troubleshoot
          </Link>
        </div>
      </div>
      <ClaimsTable
        claims={claims.items}
        action={action}
        onChanged={claims.reload}
        showCustomer={false}
        caption={`Claims of ${customerId}`}
        empty="This customer has not claimed any code."
      />
      <LoadMore paged={claims} />
    </section>
  );
}
