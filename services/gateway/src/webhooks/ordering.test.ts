import { mayAttempt, replayOrder } from './ordering';

describe('per-key order', () => {
  it('lets a delivery go only when nothing earlier of its key is pending', () => {
    expect(mayAttempt({ orderingKey: 'o-1', sequence: 5 }, undefined)).toBe(true);
    expect(mayAttempt({ orderingKey: 'o-1', sequence: 5 }, { orderingKey: 'o-1', sequence: 5 })).toBe(true);
    expect(mayAttempt({ orderingKey: 'o-1', sequence: 5 }, { orderingKey: 'o-1', sequence: 4 })).toBe(false);
  });

  it('replays one copy per event, the latest, in the order the events were first consumed', () => {
    const d = (eventId: string, orderingKey: string, sequence: number, originalSequence: number) => ({
      eventId,
      orderingKey,
      sequence,
      originalSequence,
    });
    const copies = [
      d('e3', 'o-1', 3, 3),
      d('e1', 'o-1', 1, 1),
      d('b1', 'o-2', 1, 1),
      d('e1', 'o-1', 10, 1), // e1 replayed once already: its latest copy counts, in e1's original place
      d('e2', 'o-1', 2, 2),
    ];
    expect(replayOrder(copies).map((c) => [c.eventId, c.sequence])).toEqual([
      ['e1', 10],
      ['e2', 2],
      ['e3', 3],
      ['b1', 1],
    ]);
  });
});
