// The card simulator's books outlive the process that wrote them, as a real gateway's do: a payments process killed
// between an authorisation and its capture restarts with a simulator that still knows the payment.
import { CardSimulator, TEST_CARDS } from './card-simulator';
import { memoryBooks } from './simulated-accounts';

const cny = (amountMinor: number) => ({ currency: 'CNY', amountMinor });

it('a new simulator over the same books answers a repeated authorisation the same, and captures what was authorised', async () => {
  const books = memoryBooks();
  const before = new CardSimulator(books);
  const approved = await before.authorize({ key: 'o-1:authorize', amount: cny(5000), cardNumber: TEST_CARDS.approve });
  expect(approved.outcome).toBe('approved');

  const after = new CardSimulator(books);
  await expect(
    after.authorize({ key: 'o-1:authorize', amount: cny(5000), cardNumber: TEST_CARDS.approve }),
  ).resolves.toEqual(approved);
  await after.capture({ key: 'o-1:capture:g1', reference: approved.reference, amount: cny(3000) });
  // The same capture again (a retry after a lost answer) is applied once: 2000 is still open, not 0.
  await after.capture({ key: 'o-1:capture:g1', reference: approved.reference, amount: cny(3000) });
  await expect(
    new CardSimulator(books).capture({ key: 'o-1:capture:g2', reference: approved.reference, amount: cny(2500) }),
  ).rejects.toThrow('only 2000 is open');
  await new CardSimulator(books).release({ key: 'o-1:void', reference: approved.reference, amount: cny(2000) });
});

it('a simulator with books of its own does not know another one’s payments', async () => {
  const approved = await new CardSimulator().authorize({
    key: 'o-2:authorize',
    amount: cny(1000),
    cardNumber: TEST_CARDS.approve,
  });
  await expect(
    new CardSimulator().capture({ key: 'o-2:capture', reference: approved.reference, amount: cny(1000) }),
  ).rejects.toThrow(`no payment "${approved.reference}"`);
});

it('concurrent captures of one payment are applied one at a time: together they never exceed the authorisation', async () => {
  const card = new CardSimulator();
  const { reference } = await card.authorize({
    key: 'o-3:authorize',
    amount: cny(1000),
    cardNumber: TEST_CARDS.approve,
  });
  const results = await Promise.allSettled(
    [1, 2, 3].map((i) => card.capture({ key: `o-3:capture:${i}`, reference, amount: cny(400) })),
  );
  expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'fulfilled', 'rejected']);
});
