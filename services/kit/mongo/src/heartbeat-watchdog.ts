// A watchdog for the MongoDB driver's server monitor. When the database server dies in the middle of a heartbeat,
// the Node driver (7.x, seen against FerretDB in the fault suite) can be left awaiting a command on a socket that is
// already destroyed: the heartbeat neither succeeds nor fails, no new one is started, the server stays Unknown and
// every operation waits for server selection for ever, though the server is back. The watchdog notices a heartbeat
// that has not ended long after it should have, and restarts that server's monitor.

/** The driver's heartbeat events, as a MongoClient emits them (connectionId is the server's address). */
export interface HeartbeatEvents {
  on(event: 'serverHeartbeatStarted', listener: (e: { connectionId: string }) => void): unknown;
  on(
    event: 'serverHeartbeatSucceeded' | 'serverHeartbeatFailed',
    listener: (e: { connectionId: string }) => void,
  ): unknown;
  off(event: string, listener: (e: { connectionId: string }) => void): unknown;
}

export interface WatchdogOptions {
  /** A heartbeat still running this long after it started is stuck (ms). */
  stuckAfterMs: number;
  /** Restarts the monitor of the server at this address; false when it could not. */
  restart: (address: string) => boolean;
  onRestarted?: (address: string, stuckForMs: number) => void;
  /** How often to look (ms); a quarter of stuckAfterMs by default. */
  intervalMs?: number;
  now?: () => number;
}

/** Watches the client's heartbeats; returns a function that stops watching. */
export function watchHeartbeats(client: HeartbeatEvents, options: WatchdogOptions): () => void {
  const now = options.now ?? Date.now;
  const running = new Map<string, number>();
  const started = (e: { connectionId: string }) => {
    running.set(e.connectionId, now());
  };
  const ended = (e: { connectionId: string }) => {
    running.delete(e.connectionId);
  };
  client.on('serverHeartbeatStarted', started);
  client.on('serverHeartbeatSucceeded', ended);
  client.on('serverHeartbeatFailed', ended);
  const timer = setInterval(
    () => {
      const at = now();
      for (const [address, since] of running) {
        if (at - since < options.stuckAfterMs) continue;
        running.delete(address);
        if (options.restart(address)) options.onRestarted?.(address, at - since);
      }
    },
    options.intervalMs ?? Math.max(250, Math.floor(options.stuckAfterMs / 4)),
  );
  timer.unref();
  return () => {
    clearInterval(timer);
    client.off('serverHeartbeatStarted', started);
    client.off('serverHeartbeatSucceeded', ended);
    client.off('serverHeartbeatFailed', ended);
  };
}
