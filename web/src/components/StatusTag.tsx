// Coloured tags for list, batch, import, code, customer, operator and API key states.
const TONES: Record<string, string> = {
  active: 'green',
  available: 'green',
  completed: 'grey',
  claimed: 'blue',
  pending: 'amber',
  queued: 'amber',
  running: 'blue',
  processing: 'blue',
  failed: 'red',
  cancelled: 'red',
  reversed: 'grey',
  blocked: 'red',
  locked_out: 'amber',
  revoked: 'grey',
  disabled: 'red',
  awaiting_first_sign_in: 'amber',
};

const label = (status: string) => status.charAt(0).toUpperCase() + status.slice(1).replace(/_/g, ' ');

/** `label` replaces the words made from `status` ("locked_out" → "Locked out"). */
export function StatusTag({ status, title, label: text }: { status: string; title?: string; label?: string }) {
  return (
    <span className={`tag ${TONES[status] ?? 'grey'}`} title={title}>
      {text ?? label(status)}
    </span>
  );
}
