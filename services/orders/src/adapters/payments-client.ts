// Payments as the order sees it: authorise at placement, capture at hand-over, void on cancel, refund on return.
import { status } from '@grpc/grpc-js';
import {
  type AuthorizePaymentRequest,
  type Payment,
  PaymentMethod as PbPaymentMethod,
  PaymentStatus,
  PaymentsServiceClient,
  PaymentsServiceService,
  WalletChannel as PbWalletChannel,
} from '@o2o/contracts/gen/o2o/payments/v1/payments';
import { asyncClient, channelCredentials, channelOptions, moneyToWire } from '@o2o/kit-grpc';
import type { AuthorizeOutcome, AuthorizeRequest, PaymentsPort } from '../app/ports';
import type { PaymentMethod, WalletChannel } from '../domain/types';
import {
  answerMoney,
  callFailure,
  DEFAULT_DEADLINE_MS,
  type DownstreamOptions,
  downstreamStatus,
} from './downstream-status';

/** Payments keeps at most this many characters of a void or refund reason. */
const MAX_REASON = 500;
/** ListPayments' largest page; an order has a handful of payments, so one page is the normal case. */
const PAGE_SIZE = 200;

const METHOD_TO_PB: Record<PaymentMethod, PbPaymentMethod> = {
  CARD: PbPaymentMethod.PAYMENT_METHOD_CARD,
  WALLET_QR: PbPaymentMethod.PAYMENT_METHOD_WALLET_QR,
  CASH: PbPaymentMethod.PAYMENT_METHOD_CASH,
  STORE_TERMINAL: PbPaymentMethod.PAYMENT_METHOD_STORE_TERMINAL,
};
const WALLET_TO_PB: Record<WalletChannel, PbWalletChannel> = {
  ALIPAY: PbWalletChannel.WALLET_CHANNEL_ALIPAY,
  WECHAT_PAY: PbWalletChannel.WALLET_CHANNEL_WECHAT_PAY,
};

/** The payments port over gRPC, and close() for its channel. */
export function paymentsClient(options: DownstreamOptions): PaymentsPort & { close(): void } {
  const raw = new PaymentsServiceClient(options.address, channelCredentials(), channelOptions());
  const client = asyncClient(raw, PaymentsServiceService);
  const call = { deadlineMs: options.deadlineMs ?? DEFAULT_DEADLINE_MS };
  const failed = (error: unknown) => downstreamStatus('payments', error);

  /** Every payment of the order, oldest first. */
  async function paymentsOf(orderId: string): Promise<Payment[]> {
    const all: Payment[] = [];
    let pageToken = '';
    do {
      const answer = await client.listPayments({ orderId, page: { pageSize: PAGE_SIZE, pageToken } }, call);
      all.push(...answer.payments);
      pageToken = answer.page?.nextPageToken ?? '';
    } while (pageToken);
    return all;
  }

  return {
    async authorize(request) {
      try {
        const { payment } = await client.authorizePayment(authorizeToPb(request), call);
        if (!payment) throw new Error('Malformed answer: AuthorizePayment answered no payment');
        return outcomeOf(payment);
      } catch (error) {
        return failed(error);
      }
    },

    async paymentOfOrder(orderId) {
      try {
        const payments = await paymentsOf(orderId);
        const newest = payments.reduce<Payment | undefined>(
          (latest, p) =>
            !latest || (p.createTime?.getTime() ?? 0) >= (latest.createTime?.getTime() ?? 0) ? p : latest,
          undefined,
        );
        return newest ? outcomeOf(newest) : { kind: 'none' };
      } catch (error) {
        const outcome = failed(error);
        // The port has no refusal here: a refused ListPayments (a malformed order id) is a bug to look at, so it is
        // reported as "no answer" with the reason rather than taken as "no payment".
        return outcome.kind === 'retry' ? outcome : { kind: 'retry', error: `payments refused: ${outcome.reason}` };
      }
    },

    async voidAll(orderId, reason) {
      try {
        const open = (await paymentsOf(orderId)).filter(
          (p) => p.status === PaymentStatus.PAYMENT_STATUS_PENDING || Number(p.capturableAmount?.amountMinor ?? 0) > 0,
        );
        for (const payment of open) {
          try {
            await client.voidPayment(
              {
                idempotencyKey: `${orderId}:void:${payment.id}`,
                paymentId: payment.id,
                reason: reason.slice(0, MAX_REASON),
              },
              call,
            );
          } catch (error) {
            // Already voided, declined, expired or captured in full meanwhile: nothing is left to release.
            if (callFailure(error).code !== status.FAILED_PRECONDITION) throw error;
          }
        }
        return { kind: 'done' };
      } catch (error) {
        const outcome = failed(error);
        // Done is promised only when nothing stays authorised; any other refusal is kept visible as a retry.
        return outcome.kind === 'retry'
          ? outcome
          : { kind: 'retry', error: `payments refused a void: ${outcome.reason}` };
      }
    },

    async capture(request) {
      try {
        const answer = await client.capturePayment(
          { idempotencyKey: request.key, paymentId: request.paymentId, amount: moneyToWire(request.amount) },
          call,
        );
        // The entry is this operation's (the first call's on a repeat), so the amount is what this key captured.
        return { kind: 'captured', amount: answerMoney(answer.entry?.amount, 'entry.amount') };
      } catch (error) {
        return failed(error);
      }
    },

    async refund(request) {
      try {
        const answer = await client.refundPayment(
          {
            idempotencyKey: request.key,
            paymentId: request.paymentId,
            amount: moneyToWire(request.amount),
            reason: request.reason.slice(0, MAX_REASON),
          },
          call,
        );
        return { kind: 'refunded', amount: answerMoney(answer.entry?.amount, 'entry.amount') };
      } catch (error) {
        return failed(error);
      }
    },

    close: () => raw.close(),
  };
}

/** AuthorizePayment for the request: exactly the method details payments expects for the method. */
function authorizeToPb(request: AuthorizeRequest): AuthorizePaymentRequest {
  const pb: AuthorizePaymentRequest = {
    idempotencyKey: request.key,
    orderId: request.orderId,
    amount: moneyToWire(request.amount),
    method: METHOD_TO_PB[request.method],
    card: undefined,
    wallet: undefined,
    store: undefined,
    expireTime: undefined,
    attribution: { ...request.attribution, locationIds: [...request.attribution.locationIds] },
  };
  switch (request.method) {
    case 'CARD':
      pb.card = { number: request.cardNumber ?? '' };
      break;
    case 'WALLET_QR':
      pb.wallet = {
        channel: request.walletChannel
          ? WALLET_TO_PB[request.walletChannel]
          : PbWalletChannel.WALLET_CHANNEL_UNSPECIFIED,
      };
      pb.expireTime = request.payBy;
      break;
    case 'CASH':
    case 'STORE_TERMINAL':
      // Optional for CASH; STORE_TERMINAL without a store is refused by payments, naming the field.
      if (request.storeId) pb.store = { storeId: request.storeId, terminalId: request.terminalId ?? '' };
      break;
  }
  return pb;
}

/** What a payment's state means for the order's placement. */
function outcomeOf(payment: Payment): AuthorizeOutcome {
  const paymentId = payment.id;
  const storeSale =
    payment.method === PbPaymentMethod.PAYMENT_METHOD_CASH ||
    payment.method === PbPaymentMethod.PAYMENT_METHOD_STORE_TERMINAL;
  switch (payment.status) {
    case PaymentStatus.PAYMENT_STATUS_PENDING:
      return {
        kind: 'awaiting-payment',
        paymentId,
        qrPayload: payment.wallet?.qrPayload ?? '',
        payBy: payment.expireTime ?? new Date(0),
      };
    case PaymentStatus.PAYMENT_STATUS_AUTHORIZED:
      return { kind: 'authorized', paymentId, amount: answerMoney(payment.authorizedAmount, 'authorized_amount') };
    case PaymentStatus.PAYMENT_STATUS_PARTIALLY_CAPTURED:
    case PaymentStatus.PAYMENT_STATUS_CAPTURED:
    case PaymentStatus.PAYMENT_STATUS_PARTIALLY_REFUNDED:
    case PaymentStatus.PAYMENT_STATUS_REFUNDED:
      // A store sale is captured at once; a card or wallet payment got here by being authorised first (its later
      // captures and refunds are the order's own doing, seen again after a lost answer).
      return storeSale
        ? { kind: 'paid', paymentId, amount: answerMoney(payment.capturedAmount, 'captured_amount') }
        : { kind: 'authorized', paymentId, amount: answerMoney(payment.authorizedAmount, 'authorized_amount') };
    case PaymentStatus.PAYMENT_STATUS_DECLINED:
      return { kind: 'declined', paymentId, reason: payment.declineMessage || 'the payment was declined' };
    case PaymentStatus.PAYMENT_STATUS_EXPIRED:
      return { kind: 'declined', paymentId, reason: payment.declineMessage || 'the wallet payment expired unpaid' };
    case PaymentStatus.PAYMENT_STATUS_VOIDED:
      return { kind: 'declined', paymentId, reason: payment.declineMessage || 'the payment was voided' };
    case PaymentStatus.PAYMENT_STATUS_UNSPECIFIED:
    case PaymentStatus.UNRECOGNIZED:
      throw new Error(`Malformed answer: payment "${paymentId}" has status ${payment.status}`);
  }
}
