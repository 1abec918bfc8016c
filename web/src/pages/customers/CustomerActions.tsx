// Block / unblock a customer and clear a lockout, each after a confirmation (agent and up).
import { useState } from 'react';
import { api, unwrap } from '../../api';
import { useSession } from '../../session';
import { Confirm } from '../../components/Modal';
import type { Action } from '../../components/Notice';
import { ReasonConfirm } from '../../components/ReasonConfirm';
import { Time } from '../../components/Time';

type Pending = 'block' | 'unblock' | 'clear' | null;

export function CustomerActions({
  customerId,
  blocked,
  lockedOutUntil,
  action,
  onChanged,
}: {
  customerId: string;
  blocked: boolean;
  lockedOutUntil: string | null;
  action: Action;
  onChanged: () => void;
}) {
  const { can } = useSession();
  const [pending, setPending] = useState<Pending>(null);
  if (!can('agent')) return null;

  async function change(kind: Exclude<Pending, null>, reason = '') {
    const params = { path: { id: customerId } };
    const calls = {
      block: () => unwrap(api.POST('/v1/customers/{id}/block', { params, body: reason ? { reason } : {} })),
      unblock: () => unwrap(api.POST('/v1/customers/{id}/unblock', { params, body: {} })),
      clear: () => unwrap(api.POST('/v1/customers/{id}/lockout/clear', { params, body: {} })),
    };
    const words = {
      block: `${customerId} is blocked: their claims are refused until an agent unblocks them.`,
      unblock: `${customerId} is unblocked and can claim codes again.`,
      clear: `The lockout of ${customerId} is cleared; they can claim again right away.`,
    };
    await action.run(calls[kind], words[kind]);
    setPending(null);
    onChanged(); // also after a refusal: the page may be stale
  }

  return (
    <div className="ops-buttons">
      {lockedOutUntil && (
        <button type="button" className="primary" onClick={() => setPending('clear')} disabled={action.busy}>
          Clear lockout
        </button>
      )}
      {blocked ? (
        <button type="button" className="secondary" onClick={() => setPending('unblock')} disabled={action.busy}>
          Unblock customer
        </button>
      ) : (
        <button type="button" className="secondary" onClick={() => setPending('block')} disabled={action.busy}>
          Block customer
        </button>
      )}

      {pending === 'clear' && (
        <Confirm
          title="Clear this lockout?"
          confirmLabel="Clear lockout"
          danger={false}
          busy={action.busy}
          onClose={() => setPending(null)}
          onConfirm={() => void change('clear')}
        >
          <p>
            {customerId} is locked out until <Time at={lockedOutUntil} /> for trying too many unknown codes. Clearing
            lets them claim again right away and restarts their count of unknown codes.
          </p>
        </Confirm>
      )}
      {pending === 'unblock' && (
        <Confirm
          title="Unblock this customer?"
          confirmLabel="Unblock customer"
          danger={false}
          busy={action.busy}
          onClose={() => setPending(null)}
          onConfirm={() => void change('unblock')}
        >
          <p>{customerId} will be able to claim codes again.</p>
        </Confirm>
      )}
      {pending === 'block' && (
        <ReasonConfirm
          title="Block this customer?"
          confirmLabel="Block customer"
          busy={action.busy}
          onClose={() => setPending(null)}
          onConfirm={(reason) => void change('block', reason)}
        >
          <p>
            Every claim by {customerId} will be refused with <code>customer_blocked</code> until an agent unblocks them.
            Their balances, offers and past claims stay as they are.
          </p>
        </ReasonConfirm>
      )}
    </div>
  );
}
