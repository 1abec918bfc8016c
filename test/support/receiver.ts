// A webhook receiver on loopback for delivery tests: a node:http server that keeps every
// request it gets and answers what `answer` says (200 unless told).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  headers: Record<string, string>;
  body: string;
  /** The parsed body. */
  json: any;
  /** The status it was answered. */
  status: number;
  /** When it came (performance.now()). */
  at: number;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** What the next request is answered; set it to change the answer. */
  answer: (request: { n: number; body: string }) => Answer;
  close(): Promise<void>;
}

const open = new Set<Receiver>();

/** Closes every receiver still open (call in afterAll). */
export const closeReceivers = () => Promise.all([...open].map((receiver) => receiver.close()));

export async function startReceiver(path = '/hook'): Promise<Receiver> {
  const received: Received[] = [];
  const receiver: Receiver = {
    url: '',
    received,
    answer: () => ({ status: 200, body: 'ok' }),
    close: () =>
      new Promise((resolve) => {
        open.delete(receiver);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const answer = receiver.answer({ n: received.length, body });
      let json: unknown = null;
      try {
        json = JSON.parse(body);
      } catch {}
      received.push({
        headers: request.headers as Record<string, string>,
        body,
        json,
        status: answer.status,
        at: performance.now(),
      });
      response.writeHead(answer.status, answer.headers ?? {});
      response.end(answer.body ?? '');
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
  open.add(receiver);
  return receiver;
}

/** Whether the Standard Webhooks library accepts a request as signed with `secret`. */
export function verifies(secret: string, request: Received): boolean {
  try {
    new Webhook(secret).verify(request.body, request.headers);
    return true;
  } catch {
    return false;
  }
}
