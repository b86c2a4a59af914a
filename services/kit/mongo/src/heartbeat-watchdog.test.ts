import { EventEmitter } from 'node:events';
import { watchHeartbeats } from './heartbeat-watchdog';

afterEach(() => jest.useRealTimers());

it('restarts the monitor of a server whose heartbeat neither succeeded nor failed in time, once', () => {
  jest.useFakeTimers({ now: 0 });
  const client = new EventEmitter();
  const restarted: string[] = [];
  const told: [string, number][] = [];
  const stop = watchHeartbeats(client, {
    stuckAfterMs: 25_000,
    restart: (address) => (restarted.push(address), true),
    onRestarted: (address, ms) => told.push([address, ms]),
  });
  client.emit('serverHeartbeatStarted', { connectionId: 'db:27017' });
  client.emit('serverHeartbeatStarted', { connectionId: 'other:27017' });
  jest.advanceTimersByTime(10_000);
  client.emit('serverHeartbeatFailed', { connectionId: 'other:27017' });
  jest.advanceTimersByTime(20_000);
  expect(restarted).toEqual(['db:27017']);
  expect(told[0]?.[0]).toBe('db:27017');
  expect(told[0]?.[1]).toBeGreaterThanOrEqual(25_000);
  // Forgotten once restarted: not restarted again unless a new heartbeat gets stuck.
  jest.advanceTimersByTime(60_000);
  expect(restarted).toEqual(['db:27017']);
  stop();
  client.emit('serverHeartbeatStarted', { connectionId: 'db:27017' });
  jest.advanceTimersByTime(60_000);
  expect(restarted).toEqual(['db:27017']);
});

it('leaves heartbeats that end in time alone, and says nothing when the restart was not possible', () => {
  jest.useFakeTimers({ now: 0 });
  const client = new EventEmitter();
  const told: string[] = [];
  let attempts = 0;
  const stop = watchHeartbeats(client, {
    stuckAfterMs: 1_000,
    restart: () => (attempts++, false),
    onRestarted: (address) => told.push(address),
  });
  for (let i = 0; i < 5; i++) {
    client.emit('serverHeartbeatStarted', { connectionId: 'db:27017' });
    jest.advanceTimersByTime(900);
    client.emit('serverHeartbeatSucceeded', { connectionId: 'db:27017' });
  }
  expect(attempts).toBe(0);
  client.emit('serverHeartbeatStarted', { connectionId: 'db:27017' });
  jest.advanceTimersByTime(2_000);
  expect(attempts).toBe(1);
  expect(told).toEqual([]);
  stop();
});
