// Without SMTP_URL, alerts are written as .eml files that mail programs open: CRLF line ends
// throughout (RFC 5322) and a Message-ID on the service's own host; the file parses back whole.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import pino from 'pino';
import { afterAll, expect, it } from 'vitest';
import { createMailer } from '../../src/notify/mailer';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

it('writes one .eml per message, CRLF throughout, with a Message-ID on the host of PUBLIC_URL', async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'promo-mail-'));
  dirs.push(dataDir);
  const mailer = createMailer({
    smtpUrl: null,
    from: 'Promo Codes <promo@example.com>',
    dataDir,
    publicUrl: 'https://promo.example:8443/base',
    log: pino({ level: 'silent' }),
  });
  await mailer.send({
    to: 'ops@example.com',
    subject: 'Batch "A" is ready',
    text: 'line one\nline two\n\nOpen it: https://promo.example/lists/1',
  });
  mailer.close();
  const files = await readdir(path.join(dataDir, 'mail'));
  expect(files).toHaveLength(1);
  const raw = await readFile(path.join(dataDir, 'mail', files[0]!));
  const text = raw.toString('latin1');
  expect(text).toMatch(/\r\n/);
  expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/); // no bare LF or CR anywhere
  const parsed = await simpleParser(raw);
  expect(parsed.messageId).toMatch(/^<[\w-]+@promo\.example>$/);
  expect(parsed.to && !Array.isArray(parsed.to) ? parsed.to.text : '').toBe('ops@example.com');
  expect(parsed.text?.trim()).toBe('line one\nline two\n\nOpen it: https://promo.example/lists/1');
});
