import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedMessage {
  id: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The parsed payload, when the Standard Webhooks signature verified with `secret`. */
  payload?: { type: string; timestamp: string; data: Record<string, any> };
  verified: boolean;
}

/**
 * A webhook receiver as a customer would write one: it verifies every message with the
 * `standardwebhooks` package and the endpoint's secret. `failNext` makes it answer 500.
 */
export class WebhookReceiver {
  readonly messages: ReceivedMessage[] = [];
  secret?: string;
  failNext = 0;
  status = 204;
  private server?: Server;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let payload: ReceivedMessage['payload'];
        let verified = false;
        try {
          payload = new Webhook(this.secret ?? 'whsec_AAAA').verify(
            body,
            req.headers as Record<string, string>,
          ) as ReceivedMessage['payload'];
          verified = true;
        } catch {
          verified = false;
        }
        this.messages.push({ id: String(req.headers['webhook-id']), headers: req.headers, body, payload, verified });
        if (this.failNext > 0) {
          this.failNext--;
          res.statusCode = 500;
        } else res.statusCode = this.status;
        res.end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  ofType(type: string): ReceivedMessage[] {
    return this.messages.filter((m) => m.payload?.type === type);
  }

  async waitFor(predicate: (messages: ReceivedMessage[]) => boolean, timeoutMs = 8000): Promise<void> {
    const started = Date.now();
    while (!predicate(this.messages)) {
      if (Date.now() - started > timeoutMs)
        throw new Error(`webhook receiver: condition not met in ${timeoutMs} ms (${this.messages.length} received)`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
