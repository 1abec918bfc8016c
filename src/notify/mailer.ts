// Outgoing mail: SMTP through nodemailer when SMTP_URL is set; otherwise each message is
// written as an .eml file under DATA_DIR/mail and logged, so alerts are never lost silently.
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { metrics } from '../ops/metrics';

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  send(mail: Mail): Promise<void>;
  close(): void;
}

/** Counts every mail sent or failed in the mails_total metric. */
function counting(mailer: Mailer): Mailer {
  return {
    async send(mail) {
      try {
        await mailer.send(mail);
      } catch (error) {
        metrics.mails.inc({ result: 'failed' });
        throw error;
      }
      metrics.mails.inc({ result: 'sent' });
    },
    close: () => mailer.close(),
  };
}

export interface MailerOptions {
  smtpUrl: string | null;
  from: string;
  dataDir: string;
  publicUrl: string;
  log: Logger;
}

export function createMailer(options: MailerOptions): Mailer {
  return counting(transportMailer(options));
}

/** The mailer the service's settings describe (SMTP_URL, MAIL_FROM, DATA_DIR, PUBLIC_URL). */
export function configuredMailer(
  config: Pick<Config, 'smtpUrl' | 'mailFrom' | 'dataDir' | 'publicUrl'>,
  log: Logger,
): Mailer {
  const { smtpUrl, mailFrom: from, dataDir, publicUrl } = config;
  return createMailer({ smtpUrl, from, dataDir, publicUrl, log });
}

function transportMailer(options: MailerOptions): Mailer {
  // Message-IDs on the service's own host, as mail systems expect of a sender.
  const host = new URL(options.publicUrl).hostname || 'localhost';
  // nodemailer's `newline` option converts the headers but not a text body: CRLF it here.
  const message = (mail: Mail) => ({
    from: options.from,
    messageId: `<${randomUUID()}@${host}>`,
    ...mail,
    text: mail.text.replace(/\r?\n/g, '\r\n'),
  });
  if (options.smtpUrl) {
    const transport = nodemailer.createTransport(options.smtpUrl);
    return {
      async send(mail) {
        await transport.sendMail(message(mail));
      },
      close: () => transport.close(),
    };
  }
  const folder = path.join(options.dataDir, 'mail');
  // CRLF throughout, as RFC 5322 has it and mail programs opening an .eml file expect.
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  return {
    async send(mail) {
      const info = await transport.sendMail(message(mail));
      await mkdir(folder, { recursive: true });
      const file = path.join(
        folder,
        `${new Date().toISOString().replace(/[:.]/g, '-')}-${info.messageId.replace(/[^\w.-]/g, '')}.eml`,
      );
      await writeFile(file, info.message as Buffer);
      options.log.info({ file, to: mail.to, subject: mail.subject }, 'no SMTP_URL set: alert written to a file');
    },
    close: () => transport.close(),
  };
}
