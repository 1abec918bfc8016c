// A real SMTP server on loopback that keeps every message it receives.
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { expect } from 'vitest';
import { eventually } from './worker';

export interface ReceivedMail {
  /** the envelope's recipients */
  to: string[];
  /** the To: header, as every recipient sees it */
  toHeader: string;
  messageId: string;
  subject: string;
  /** the decoded text body */
  text: string;
}

export async function startSmtpServer(): Promise<{ url: string; mails: ReceivedMail[]; close(): Promise<void> }> {
  const mails: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream).then(
        (parsed) => {
          mails.push({
            to: session.envelope.rcptTo.map((r) => r.address),
            toHeader: (Array.isArray(parsed.to) ? parsed.to.map((a) => a.text).join(', ') : parsed.to?.text) ?? '',
            messageId: parsed.messageId ?? '',
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
          });
          callback();
        },
        (error: Error) => callback(error),
      );
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as { port: number };
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Waits for the alert whose subject includes `subject` to reach each of `addresses`, and checks
 * that each got a message of its own (no recipient sees the others) with a Message-ID on
 * `host`. Returns one of the messages.
 */
export async function alertsTo(
  mails: ReceivedMail[],
  subject: string,
  addresses: string[],
  host: string,
): Promise<ReceivedMail> {
  const received = await eventually(
    async () => {
      const found = mails.filter((m) => m.subject.includes(subject));
      return found.length >= addresses.length && found;
    },
    15_000,
    `the alerts for ${subject}`,
  );
  expect(received.map((m) => [m.to, m.toHeader]).sort()).toEqual([...addresses].sort().map((a) => [[a], a]));
  for (const m of received) expect(m.messageId).toMatch(new RegExp(`^<[\\w-]+@${host.replace(/\./g, '\\.')}>$`));
  return received[0]!;
}
