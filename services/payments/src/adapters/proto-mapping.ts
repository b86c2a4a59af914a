// Proto ↔ domain mapping for payments. Generated types stay in adapters; the domain never sees them.
import type { Money as PbMoney } from '@o2o/contracts/gen/o2o/common/v1/money';
import * as pb from '@o2o/contracts/gen/o2o/payments/v1/payments';
import { invertEnumTable, moneyFromWire, moneyToWire } from '@o2o/kit-grpc';
import type { AuthorizeInput } from '../domain/authorize-input';
import { PaymentError, type Violation } from '../domain/errors';
import { capturable, type LedgerEntry, type LedgerKind, refundable } from '../domain/ledger';
import type { Money } from '../domain/money';
import type { DeclineReason, PaymentMethod, PaymentState, PaymentStatus, WalletChannel } from '../domain/payment';

// One table per enum, domain → wire; the wire → domain direction is derived, so the two cannot drift apart.
const METHOD_TO_PB: Record<PaymentMethod, pb.PaymentMethod> = {
  CARD: pb.PaymentMethod.PAYMENT_METHOD_CARD,
  WALLET_QR: pb.PaymentMethod.PAYMENT_METHOD_WALLET_QR,
  CASH: pb.PaymentMethod.PAYMENT_METHOD_CASH,
  STORE_TERMINAL: pb.PaymentMethod.PAYMENT_METHOD_STORE_TERMINAL,
};
const CHANNEL_TO_PB: Record<WalletChannel, pb.WalletChannel> = {
  ALIPAY: pb.WalletChannel.WALLET_CHANNEL_ALIPAY,
  WECHAT_PAY: pb.WalletChannel.WALLET_CHANNEL_WECHAT_PAY,
};
const STATUS_TO_PB: Record<PaymentStatus, pb.PaymentStatus> = {
  PENDING: pb.PaymentStatus.PAYMENT_STATUS_PENDING,
  AUTHORIZED: pb.PaymentStatus.PAYMENT_STATUS_AUTHORIZED,
  PARTIALLY_CAPTURED: pb.PaymentStatus.PAYMENT_STATUS_PARTIALLY_CAPTURED,
  CAPTURED: pb.PaymentStatus.PAYMENT_STATUS_CAPTURED,
  VOIDED: pb.PaymentStatus.PAYMENT_STATUS_VOIDED,
  PARTIALLY_REFUNDED: pb.PaymentStatus.PAYMENT_STATUS_PARTIALLY_REFUNDED,
  REFUNDED: pb.PaymentStatus.PAYMENT_STATUS_REFUNDED,
  DECLINED: pb.PaymentStatus.PAYMENT_STATUS_DECLINED,
  EXPIRED: pb.PaymentStatus.PAYMENT_STATUS_EXPIRED,
};
const DECLINE_TO_PB: Record<DeclineReason, pb.DeclineReason> = {
  INSUFFICIENT_FUNDS: pb.DeclineReason.DECLINE_REASON_INSUFFICIENT_FUNDS,
  STOLEN_CARD: pb.DeclineReason.DECLINE_REASON_STOLEN_CARD,
  DO_NOT_HONOR: pb.DeclineReason.DECLINE_REASON_DO_NOT_HONOR,
  WALLET_CLOSED: pb.DeclineReason.DECLINE_REASON_WALLET_CLOSED,
};
const KIND_TO_PB: Record<LedgerKind, pb.LedgerEntryKind> = {
  AUTHORIZATION: pb.LedgerEntryKind.LEDGER_ENTRY_KIND_AUTHORIZATION,
  CAPTURE: pb.LedgerEntryKind.LEDGER_ENTRY_KIND_CAPTURE,
  VOID: pb.LedgerEntryKind.LEDGER_ENTRY_KIND_VOID,
  REFUND: pb.LedgerEntryKind.LEDGER_ENTRY_KIND_REFUND,
};
const METHOD_TO_DOMAIN = invertEnumTable(METHOD_TO_PB);
const CHANNEL_TO_DOMAIN = invertEnumTable(CHANNEL_TO_PB);

/** Collects mapping problems (unparsable numbers) so they are reported with the domain's own. */
export class MappingViolations {
  readonly list: Violation[] = [];
  add(field: string, description: string): void {
    this.list.push({ field, description });
  }
  /** Throws INVALID_ARGUMENT if anything was collected. */
  check(): void {
    if (this.list.length > 0) throw PaymentError.invalid(this.list);
  }
}

/** int64 minor units (a decimal string on the wire) → a safe integer, or a violation. */
export function moneyFromPb(money: PbMoney | undefined, field: string, v: MappingViolations): Money {
  return moneyFromWire(money, field, v);
}

/** Domain money → proto. */
export function moneyToPb(money: Money): PbMoney {
  return moneyToWire(money);
}

/** AuthorizePayment's content for the use case; enums the domain does not know become undefined (then a violation). */
export function authorizeInputFromPb(req: pb.AuthorizePaymentRequest, v: MappingViolations): AuthorizeInput {
  const input: AuthorizeInput = {
    orderId: req.orderId,
    amount: moneyFromPb(req.amount, 'amount', v),
    method: METHOD_TO_DOMAIN[req.method],
  };
  if (req.card) input.card = { number: req.card.number };
  if (req.wallet) input.wallet = { channel: CHANNEL_TO_DOMAIN[req.wallet.channel] };
  if (req.store) input.store = { storeId: req.store.storeId, terminalId: req.store.terminalId };
  if (req.expireTime) input.expiresAt = req.expireTime;
  if (req.attribution) {
    const a = req.attribution;
    input.attribution = {
      customerId: a.customerId,
      storeId: a.storeId,
      partnerId: a.partnerId,
      locationIds: [...a.locationIds],
    };
  }
  return input;
}

/** A ledger entry for the wire. */
export function entryToPb(entry: LedgerEntry): pb.LedgerEntry {
  return {
    sequence: String(entry.sequence),
    kind: KIND_TO_PB[entry.kind],
    amount: moneyToPb({ currency: entry.currency, amountMinor: entry.amountMinor }),
    idempotencyKey: entry.key,
    createTime: entry.at,
  };
}

/** A payment for the wire. */
export function paymentToPb(state: PaymentState): pb.Payment {
  const money = (amountMinor: number) => moneyToPb({ currency: state.currency, amountMinor });
  const b = state.balances;
  return {
    id: state.id,
    orderId: state.orderId,
    method: METHOD_TO_PB[state.method],
    status: STATUS_TO_PB[state.status],
    amount: money(state.amountMinor),
    authorizedAmount: money(b.authorized),
    capturedAmount: money(b.captured),
    voidedAmount: money(b.voided),
    refundedAmount: money(b.refunded),
    capturableAmount: money(capturable(b)),
    refundableAmount: money(refundable(b)),
    declineReason: state.decline ? DECLINE_TO_PB[state.decline.reason] : pb.DeclineReason.DECLINE_REASON_UNSPECIFIED,
    declineMessage: state.decline?.message ?? '',
    card: state.card ? { last4: state.card.last4 } : undefined,
    wallet: state.wallet
      ? {
          channel: CHANNEL_TO_PB[state.wallet.channel],
          qrPayload: state.wallet.qrPayload,
          providerTransactionId: state.wallet.transactionId ?? '',
        }
      : undefined,
    store: state.store ? { storeId: state.store.storeId, terminalId: state.store.terminalId } : undefined,
    expireTime: state.expiresAt,
    ledger: state.ledger.map(entryToPb),
    version: String(state.version),
    createTime: state.createdAt,
    updateTime: state.updatedAt,
  };
}

/** A decline reason for the wire. */
export function declineReasonToPb(reason: DeclineReason): pb.DeclineReason {
  return DECLINE_TO_PB[reason];
}
