import { Injectable } from '@nestjs/common';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { AppConfig } from '../config/app-config';
import { deriveKey, seal, unseal } from '../common/sealed';
import { isPublicAddress, publicOnlyLookup, TargetRefused } from './webhook-target';

export interface SendOutcome {
  ok: boolean;
  statusCode: number | null;
  /** Short and safe to show the owner: never the response body. */
  error: string;
  /** The target itself is refused (private address): retrying will not help. */
  refused?: boolean;
}

const USER_AGENT = 'api-key-service-webhooks/1';

/**
 * Signs and sends one message per the Standard Webhooks specification: `webhook-id`,
 * `webhook-timestamp` and `webhook-signature` (v1, HMAC-SHA256 of `id.timestamp.body`), signed
 * by the `standardwebhooks` package. No redirects are followed (a 3xx is a failure), the whole
 * attempt has a deadline, and the connection goes only to addresses that passed the target check.
 */
@Injectable()
export class WebhookSender {
  private readonly sealingKey: Buffer;

  constructor(private readonly config: AppConfig) {
    this.sealingKey = deriveKey(config.llmKeys.encryptionKey, 'webhook-signing-secret');
  }

  sealSecret(secret: string): string {
    return seal(secret, this.sealingKey);
  }

  unsealSecret(sealed: string): string | undefined {
    return unseal(sealed, this.sealingKey);
  }

  send(target: { url: string; secretSealed: string }, message: { id: string; body: string; timestamp?: Date }): Promise<SendOutcome> {
    const secret = this.unsealSecret(target.secretSealed);
    if (!secret) return Promise.resolve({ ok: false, statusCode: null, error: 'signing secret unreadable (encryption key changed?)' });
    const timestamp = message.timestamp ?? new Date();
    const signature = new Webhook(secret).sign(message.id, timestamp, message.body);
    const url = new URL(target.url);
    const allowPrivate = this.config.webhooks.allowPrivateTargets;
    const host = url.hostname.replace(/^\[|\]$/g, '');
    // Node connects to an IP literal without a lookup: check it here.
    if (!allowPrivate && isIP(host) && !isPublicAddress(host)) {
      return Promise.resolve({ ok: false, statusCode: null, error: 'target address is not public', refused: true });
    }
    const headers = {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(message.body)),
      'user-agent': USER_AGENT,
      'webhook-id': message.id,
      'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
      'webhook-signature': signature,
    };
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<SendOutcome>((resolve) => {
      let settled = false;
      const finish = (outcome: SendOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        resolve(outcome);
      };
      const req = request(url, { method: 'POST', headers, lookup: publicOnlyLookup(allowPrivate), agent: false }, (res) => {
        const status = res.statusCode ?? 0;
        // The status is all we need: close the connection now. A receiver trickling its body
        // must not hold a socket (and a file descriptor) of ours open past the deadline.
        res.on('error', () => undefined);
        req.destroy();
        const ok = status >= 200 && status < 300;
        finish({
          ok,
          statusCode: status,
          error: ok ? '' : status >= 300 && status < 400 ? `redirect ${status} not followed` : `receiver answered ${status}`,
        });
      });
      const deadline = setTimeout(() => {
        req.destroy(new Error(`no answer within ${this.config.webhooks.timeoutMs} ms`));
      }, this.config.webhooks.timeoutMs);
      req.on('error', (error: Error & { code?: string }) => {
        const refused = error instanceof TargetRefused;
        // Without private targets, a name that does not resolve and one that resolves only to
        // private addresses look the same: the delivery log must not map the internal DNS.
        const unresolvable = refused || (!allowPrivate && (error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN'));
        const message = unresolvable && !allowPrivate ? `${url.hostname} has no public address` : describe(error);
        finish({ ok: false, statusCode: null, error: message, refused });
      });
      req.end(message.body);
    });
  }
}

function describe(error: Error & { code?: string }): string {
  return (error.code ? `${error.code}: ` : '') + error.message.slice(0, 200);
}
