// Coloured tags for list, batch, import and code states.
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
};

const label = (status: string) => status.charAt(0).toUpperCase() + status.slice(1).replace(/_/g, ' ');

export function StatusTag({ status, title }: { status: string; title?: string }) {
  return (
    <span className={`tag ${TONES[status] ?? 'grey'}`} title={title}>
      {label(status)}
    </span>
  );
}
