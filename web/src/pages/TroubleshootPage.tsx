// "My code doesn't work": a code and/or a customer → what a claim would answer now, the facts
// behind it, the customer's lockout and limits, and everything that happened, as a timeline.
import { useEffect, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api, unwrap, type TroubleshootReport } from '../api';
import { useLoad } from '../hooks';
import { Empty, ErrorMessage, Loading } from '../components/Feedback';
import { Field } from '../components/Field';
import { NoticeBar, useAction } from '../components/Notice';
import { CodeFacts } from './troubleshoot/CodeFacts';
import { ClaimsTable } from './claims/ClaimsTable';
import { refusalSentence } from '../refusals';
import { CustomerFacts } from './troubleshoot/CustomerFacts';
import { Timeline } from './troubleshoot/Timeline';
import { codePath } from '../paths';

export function TroubleshootPage() {
  const [params, setParams] = useSearchParams();
  const code = params.get('code')?.trim() || '';
  const customerId = params.get('customer_id')?.trim() || '';
  const [codeText, setCodeText] = useState(code);
  const [customerText, setCustomerText] = useState(customerId);
  const [formError, setFormError] = useState<string | null>(null);
  const action = useAction();

  useEffect(() => {
    setCodeText(code);
    setCustomerText(customerId);
  }, [code, customerId]);

  function submit(event: FormEvent) {
    event.preventDefault();
    const next = { code: codeText.trim(), customer_id: customerText.trim() };
    if (!next.code && !next.customer_id) {
      setFormError('Enter a code, a customer ID or both.');
      return;
    }
    setFormError(null);
    action.setNotice(null);
    setParams(Object.fromEntries(Object.entries(next).filter(([, v]) => v)));
  }

  return (
    <section>
      <div className="page-head">
        <h1>Troubleshoot</h1>
      </div>
      <form className="card ops-search" onSubmit={submit} noValidate>
        <Field label="Code" hint="As the customer typed it.">
          {(props) => (
            <input
              {...props}
              value={codeText}
              onChange={(e) => setCodeText(e.target.value)}
              autoComplete="off"
              spellCheck={false}
              maxLength={128}
            />
          )}
        </Field>
        <Field label="Customer ID" error={formError ?? undefined}>
          {(props) => (
            <input
              {...props}
              value={customerText}
              onChange={(e) => setCustomerText(e.target.value)}
              autoComplete="off"
              spellCheck={false}
              maxLength={128}
            />
          )}
        </Field>
        <button type="submit" className="primary">
          Troubleshoot
        </button>
      </form>
      <NoticeBar notice={action.notice} onDismiss={() => action.setNotice(null)} />
      {code || customerId ? (
        <Report code={code} customerId={customerId} action={action} />
      ) : (
        <Empty title="What would a claim answer?">
          Enter the code a customer says does not work and their customer ID to see what a claim would answer right now,
          and why. Either one alone shows its history.
        </Empty>
      )}
    </section>
  );
}

function Report({
  code,
  customerId,
  action,
}: {
  code: string;
  customerId: string;
  action: ReturnType<typeof useAction>;
}) {
  const { data, error, loading, reload } = useLoad(
    () =>
      unwrap(
        api.GET('/v1/troubleshoot', {
          params: { query: { code: code || undefined, customer_id: customerId || undefined } },
        }),
      ),
    [code, customerId],
  );
  if (loading && !data) return <Loading what="Building the report" />;
  if (error) return <ErrorMessage error={error} onRetry={reload} />;
  if (!data) return null;
  return (
    <>
      <Verdict report={data} />
      <div className="grid-2">
        <CodeFacts report={data} />
        <CustomerFacts report={data} action={action} onChanged={reload} />
      </div>
      {data.claims.length > 0 && (
        <section className="card" aria-labelledby="ts-claims">
          <h2 id="ts-claims">Claims</h2>
          <ClaimsTable
            claims={data.claims}
            action={action}
            onChanged={reload}
            caption="Claims of this code and customer"
            empty="No claims yet."
          />
        </section>
      )}
      <Timeline report={data} />
    </>
  );
}

function Verdict({ report }: { report: TroubleshootReport }) {
  const { verdict, query: asked } = report;
  if (verdict?.would_succeed)
    return (
      <div className="alert ok banner ops-verdict" role="status">
        <div>
          <div>A claim would succeed</div>
          <div className="ops-verdict-sub">
            Claiming <span className="mono">{report.code?.code}</span> for {asked.customer_id} now would issue the
            outcome of “{report.code?.list.name}”.
          </div>
        </div>
      </div>
    );
  if (verdict)
    return (
      <div className="alert error banner ops-verdict" role="status">
        <div>
          <div>
            A claim would be refused: <code>{verdict.error}</code> — {refusalSentence(report)}
          </div>
          <div className="ops-verdict-sub">
            The app gets HTTP {verdict.status} with “{verdict.message}”.
          </div>
        </div>
      </div>
    );
  // Only one of code and customer: no verdict, but say what is known.
  if (asked.code && !report.code)
    return (
      <div className="alert error banner ops-verdict" role="status">
        <div>
          <code>code_not_found</code> — No code “{asked.code}” exists. Codes match ignoring case, spaces and dashes.
        </div>
      </div>
    );
  if (asked.customer_id && report.customer && !report.customer.registered)
    return (
      <div className="alert error banner ops-verdict" role="status">
        <div>
          <code>customer_not_found</code> — No registered customer has the ID “{asked.customer_id}”.
        </div>
      </div>
    );
  const known = asked.code && report.code;
  return (
    <div className="alert info banner ops-verdict" role="status">
      <div>
        {known && (
          <>
            Code <span className="mono">{report.code!.code}</span> is {report.code!.status}.{' '}
          </>
        )}
        {asked.code
          ? 'Add the customer ID to see whether their claim would succeed.'
          : 'Add a code to see whether a claim by this customer would succeed.'}
        {known && (
          <div className="ops-verdict-sub">
            <Link to={codePath(report.code!.normalized)}>Open the code</Link>
          </div>
        )}
      </div>
    </div>
  );
}
