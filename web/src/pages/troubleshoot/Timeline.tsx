// What happened to a code and a customer, oldest first.
import type { TroubleshootReport } from '../../api';
import { Time } from '../../components/Time';
import { EVENT_LABELS, eventSentence, isBadEvent } from './events';

export function Timeline({ report }: { report: TroubleshootReport }) {
  return (
    <section className="card" aria-labelledby="ts-timeline">
      <h2 id="ts-timeline">
        What happened <span className="muted ops-small">(oldest first)</span>
      </h2>
      {report.timeline.length === 0 ? (
        <p className="muted">Nothing has happened yet: no attempts, claims or changes.</p>
      ) : (
        <ol className="timeline" aria-label="Timeline">
          {report.timeline.map((event, index) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: the timeline is replaced whole, never reordered
            <li key={index} className={isBadEvent(event) ? 'bad' : undefined}>
              <Time at={event.at} precise />
              <span className="ops-event-kind">{EVENT_LABELS[event.type] ?? event.type}</span>{' '}
              {eventSentence(event, report.audit)}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
