import { randomBytes } from 'node:crypto';
import type { WalletGateway, WalletOutcome } from '../app/ports';
import { PaymentError } from '../domain/errors';
import type { Money } from '../domain/money';
import type { WalletChannel } from '../domain/payment';
import { SimulatedAccounts, SimulatedFaults } from './simulated-accounts';
import { signedHeaders } from './wallet-signature';

/** A QR payment as the simulated wallet provider holds it. */
export interface SimulatedQr {
  reference: string;
  paymentId: string;
  channel: WalletChannel;
  amount: Money;
  expiresAt: Date;
  state: 'pending' | 'paid' | 'closed';
  transactionId?: string;
}

/** The JSON body of a wallet callback (also what the simulator signs). */
export interface WalletCallbackBody {
  reference: string;
  payment_id: string;
  state: 'PAID' | 'CLOSED';
  transaction_id?: string;
  amount_minor: string;
  currency: string;
  time: string;
}

/**
 * An Alipay / WeChat Pay style provider, in process, for tests and local runs. It holds QR payments; `pay()` plays
 * the customer scanning and paying, then POSTs a signed callback to the payments service (unless told to lose it).
 * `query()` and `close()` are what the service's reconciler and expiry sweeper call.
 */
export class WalletSimulator implements WalletGateway {
  readonly faults = new SimulatedFaults();
  private readonly accounts = new SimulatedAccounts();
  private readonly byKey = new Map<string, SimulatedQr>();
  private readonly byReference = new Map<string, SimulatedQr>();
  private callbackUrl: string | undefined;

  constructor(private readonly secret: string) {}

  /** Where callbacks go: the payments service's callback endpoint. */
  setCallbackUrl(url: string): void {
    this.callbackUrl = url;
  }

  async createQr(request: Parameters<WalletGateway['createQr']>[0]): Promise<{ reference: string; qrPayload: string }> {
    this.faults.check('createQr');
    let qr = this.byKey.get(request.key);
    if (!qr) {
      qr = {
        reference: `wq_${randomBytes(10).toString('hex')}`,
        paymentId: request.paymentId,
        channel: request.channel,
        amount: { ...request.amount },
        expiresAt: request.expiresAt,
        state: 'pending',
      };
      this.byKey.set(request.key, qr);
      this.byReference.set(qr.reference, qr);
    }
    return { reference: qr.reference, qrPayload: qrPayload(qr) };
  }

  async query(reference: string): Promise<WalletOutcome> {
    this.faults.check('query');
    return outcomeOf(this.get(reference));
  }

  async close(reference: string): Promise<WalletOutcome> {
    this.faults.check('close');
    const qr = this.get(reference);
    if (qr.state === 'pending') qr.state = 'closed';
    return outcomeOf(qr);
  }

  async capture(request: Parameters<WalletGateway['capture']>[0]): Promise<void> {
    this.faults.check('capture');
    await this.accounts.move('capture', request);
  }

  async release(request: Parameters<WalletGateway['release']>[0]): Promise<void> {
    this.faults.check('release');
    await this.accounts.move('release', request);
  }

  async refund(request: Parameters<WalletGateway['refund']>[0]): Promise<void> {
    this.faults.check('refund');
    await this.accounts.move('refund', request);
  }

  /** The QR payment with this reference, or with this payment id. */
  find(referenceOrPaymentId: string): SimulatedQr | undefined {
    const direct = this.byReference.get(referenceOrPaymentId);
    if (direct) return { ...direct };
    const qr = [...this.byReference.values()].find((q) => q.paymentId === referenceOrPaymentId);
    return qr && { ...qr };
  }

  /**
   * The customer pays: the QR becomes paid and the callback is sent (or not, with loseCallback). Answers the
   * callback's HTTP status, or undefined when it was lost. Paying a closed or expired QR is refused.
   */
  async pay(reference: string, options: { loseCallback?: boolean; now?: Date } = {}): Promise<number | undefined> {
    const qr = this.get(reference);
    const now = options.now ?? new Date();
    if (qr.state === 'closed') throw new Error(`QR ${reference} is closed`);
    if (qr.state === 'pending') {
      if (qr.expiresAt.getTime() <= now.getTime()) throw new Error(`QR ${reference} has expired`);
      qr.state = 'paid';
      qr.transactionId = `wtx_${randomBytes(10).toString('hex')}`;
      await this.accounts.open(reference, qr.amount);
    }
    return options.loseCallback ? undefined : this.deliver(reference);
  }

  /** The customer gives up or risk control stops it: the QR closes and a CLOSED callback is sent. */
  async cancelByCustomer(reference: string): Promise<number | undefined> {
    const qr = this.get(reference);
    if (qr.state === 'pending') qr.state = 'closed';
    return this.deliver(reference);
  }

  /** The signed callback for the QR's current state, as the provider would send it. */
  signedCallback(reference: string, now = new Date()): { body: string; headers: Record<string, string> } {
    const qr = this.get(reference);
    const body: WalletCallbackBody = {
      reference: qr.reference,
      payment_id: qr.paymentId,
      state: qr.state === 'paid' ? 'PAID' : 'CLOSED',
      amount_minor: String(qr.amount.amountMinor),
      currency: qr.amount.currency,
      time: now.toISOString(),
    };
    if (qr.transactionId) body.transaction_id = qr.transactionId;
    const text = JSON.stringify(body);
    return { body: text, headers: signedHeaders(this.secret, text, now) };
  }

  /** (Re)sends the callback for the QR's current state; answers the HTTP status. */
  async deliver(reference: string): Promise<number> {
    if (!this.callbackUrl) throw new Error('WalletSimulator: no callback URL set');
    const { body, headers } = this.signedCallback(reference);
    const response = await fetch(this.callbackUrl, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body,
    });
    await response.arrayBuffer();
    return response.status;
  }

  private get(reference: string): SimulatedQr {
    const qr = this.byReference.get(reference);
    if (!qr) throw new PaymentError('failed-precondition', `Wallet provider: no QR payment "${reference}"`);
    return qr;
  }
}

function outcomeOf(qr: SimulatedQr): WalletOutcome {
  if (qr.state === 'paid') return { state: 'paid', transactionId: qr.transactionId!, amount: { ...qr.amount } };
  return { state: qr.state };
}

function qrPayload(qr: SimulatedQr): string {
  const scheme = qr.channel === 'ALIPAY' ? 'https://qr.alipay.sim' : 'weixin://wxpay/sim';
  return `${scheme}/${qr.reference}?amount=${qr.amount.amountMinor}&currency=${qr.amount.currency}`;
}
