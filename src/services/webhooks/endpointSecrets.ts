import type { SealedSecret, WebhookEndpointRecord } from '../../store/index.js';
import type { SecretBox } from './secretBox.js';
import { formatWebhookSecret, newWebhookKey } from './webhookSigning.js';

// An endpoint's secrets: the current one, and after a rotation the previous one until its
// retire time (both sign meanwhile). Keys are stored sealed and opened only to sign.

export class EndpointSecrets {
  constructor(private readonly box: SecretBox) {}

  /** A new key for an endpoint: what to store and the secret to show once. */
  issue(endpointId: string, now: Date): { stored: SealedSecret; secret: string } {
    const key = newWebhookKey();
    return { stored: { sealed: this.box.seal(key, endpointId), created_at: now, retire_at: null }, secret: formatWebhookSecret(key) };
  }

  /** The secrets after a rotation at `now`: the new one, the live ones retiring after `overlapMs`. */
  rotate(endpoint: WebhookEndpointRecord, now: Date, overlapMs: number): { secrets: SealedSecret[]; secret: string } {
    const { stored, secret } = this.issue(endpoint._id, now);
    const retireAt = new Date(now.getTime() + overlapMs);
    const kept = endpoint.secrets
      .filter((s) => s.retire_at === null || s.retire_at > now)
      .map((s) => ({ ...s, retire_at: s.retire_at === null || s.retire_at > retireAt ? retireAt : s.retire_at }));
    return { secrets: [stored, ...(overlapMs > 0 ? kept : [])], secret };
  }

  /** The keys that sign at `now`, newest first. */
  signingKeys(endpoint: WebhookEndpointRecord, now: Date): Buffer[] {
    return endpoint.secrets
      .filter((s) => s.retire_at === null || s.retire_at > now)
      .sort((a, b) => b.created_at.getTime() - a.created_at.getTime())
      .map((s) => this.open(s.sealed, endpoint._id));
  }

  /** Opened keys, by sealed text: a sealed secret never changes, and opening one per delivery is wasted CPU. */
  private readonly opened = new Map<string, Buffer>();

  private open(sealed: string, endpointId: string): Buffer {
    const cacheKey = `${endpointId}\n${sealed}`;
    let key = this.opened.get(cacheKey);
    if (!key) {
      key = this.box.open(sealed, endpointId);
      if (this.opened.size >= 10_000) this.opened.clear();
      this.opened.set(cacheKey, key);
    }
    return key;
  }
}
