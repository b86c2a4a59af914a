import { randomBytes } from 'node:crypto';
import type { CardGateway, CardOutcome } from '../app/ports';
import { PaymentError } from '../domain/errors';
import type { DeclineReason } from '../domain/payment';
import { memoryBooks, type ProviderBooks, SimulatedAccounts, SimulatedFaults } from './simulated-accounts';

/** The simulator's test card numbers (all pass the Luhn check); any other valid number is approved. */
export const TEST_CARDS = {
  approve: '4242424242424242',
  insufficientFunds: '4000000000009995',
  stolen: '4000000000009979',
  doNotHonor: '4000000000000002',
  /** Every attempt fails as "provider unavailable". */
  unavailable: '4000000000000119',
  /** The first attempt for a key fails as unavailable, the retry with the same key is approved. */
  unavailableOnce: '4000000000000127',
} as const;

const DECLINES: Record<string, { reason: DeclineReason; message: string }> = {
  [TEST_CARDS.insufficientFunds]: { reason: 'INSUFFICIENT_FUNDS', message: 'Insufficient funds' },
  [TEST_CARDS.stolen]: { reason: 'STOLEN_CARD', message: 'The card was reported stolen' },
  [TEST_CARDS.doNotHonor]: { reason: 'DO_NOT_HONOR', message: 'The issuer declined the card' },
};

/**
 * A card gateway simulator, in process: synchronous answers by test card number, remembered per idempotency key
 * (a retry gets the first answer), and its own books so captures, releases and refunds are checked as a real
 * gateway would. The answers and books live in `books`: the service keeps them in storage of their own, so they
 * survive the payments process as a real gateway's would.
 */
export class CardSimulator implements CardGateway {
  readonly faults = new SimulatedFaults();
  private readonly accounts: SimulatedAccounts;
  private readonly failedOnce = new Set<string>();

  constructor(private readonly books: ProviderBooks = memoryBooks()) {
    this.accounts = new SimulatedAccounts(books);
  }
  /** How many authorisations reached the simulator (repeats included): tests prove retries are safe with it. */
  authorizeCalls = 0;

  async authorize(request: Parameters<CardGateway['authorize']>[0]): Promise<CardOutcome> {
    this.authorizeCalls += 1;
    this.faults.check('authorize');
    const earlier = await this.books.read<CardOutcome>(`answer:${request.key}`);
    if (earlier) return earlier;
    if (request.cardNumber === TEST_CARDS.unavailable) {
      throw new PaymentError('unavailable', 'Simulated card network unavailable');
    }
    if (request.cardNumber === TEST_CARDS.unavailableOnce && !this.failedOnce.has(request.key)) {
      this.failedOnce.add(request.key);
      throw new PaymentError('unavailable', 'Simulated card network unavailable (once)');
    }
    const reference = `card_sim_${randomBytes(8).toString('hex')}`;
    const decline = DECLINES[request.cardNumber];
    const answer: CardOutcome = decline
      ? { outcome: 'declined', reference, ...decline }
      : { outcome: 'approved', reference };
    if (!decline) await this.accounts.open(reference, request.amount);
    await this.books.write(`answer:${request.key}`, answer);
    return answer;
  }

  async capture(request: Parameters<CardGateway['capture']>[0]): Promise<void> {
    this.faults.check('capture');
    await this.accounts.move('capture', request);
  }

  async release(request: Parameters<CardGateway['release']>[0]): Promise<void> {
    this.faults.check('release');
    await this.accounts.move('release', request);
  }

  async refund(request: Parameters<CardGateway['refund']>[0]): Promise<void> {
    this.faults.check('refund');
    await this.accounts.move('refund', request);
  }
}

/** Store sales: the money moved at the till (cash or the store's own terminal), so there is nothing to call. */
export const storeTill = {
  async capture(): Promise<void> {},
  async release(): Promise<void> {},
  async refund(): Promise<void> {},
};
