import type { Money } from './money';
import type { DeclineReason, PaymentState } from './payment';

/** Every event the payments service publishes, as plain data; adapters encode them as o2o.payments.v1 protobuf. */
export type PaymentEvent =
  | { type: 'PaymentAuthorized'; payment: PaymentState }
  | { type: 'PaymentDeclined'; payment: PaymentState; reason: DeclineReason }
  | { type: 'PaymentCaptured'; payment: PaymentState; amount: Money }
  | { type: 'PaymentVoided'; payment: PaymentState; amount: Money; reason: string }
  | { type: 'PaymentRefunded'; payment: PaymentState; amount: Money; reason: string }
  | { type: 'PaymentExpired'; payment: PaymentState };
