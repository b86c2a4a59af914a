// A TCP proxy on loopback that can be made slow: every chunk, in either direction, is passed on `delayMs` after it
// arrived, in order. Put between a service and one of its dependencies (a gRPC service, the database), it plays a
// slow network or an overloaded dependency without touching either side.
import net from 'node:net';

export interface DelayProxy {
  /** host:port to give the client instead of the upstream's address. */
  address: string;
  /** The delay from now on (0: pass through at once). Chunks already waiting keep theirs. */
  setDelay(ms: number): void;
  /** How many connections were opened through the proxy so far. */
  connections(): number;
  close(): Promise<void>;
}

/** One direction of a connection: chunks queued with the time they may leave, written in arrival order. */
function delayedPipe(from: net.Socket, to: net.Socket, delay: () => number): void {
  const queue: { due: number; chunk: Buffer }[] = [];
  let timer: NodeJS.Timeout | undefined;
  let ended = false;
  const pump = () => {
    timer = undefined;
    const now = Date.now();
    while (queue.length > 0 && queue[0]!.due <= now) to.write(queue.shift()!.chunk);
    if (queue.length > 0) timer = setTimeout(pump, queue[0]!.due - now);
    else if (ended) to.end();
  };
  from.on('data', (chunk: Buffer) => {
    const ms = delay();
    // A chunk never overtakes the one before it, even when the delay was just lowered.
    const due = Math.max(Date.now() + ms, queue.at(-1)?.due ?? 0);
    if (ms === 0 && queue.length === 0) {
      to.write(chunk);
      return;
    }
    queue.push({ due, chunk });
    timer ??= setTimeout(pump, due - Date.now());
  });
  from.on('end', () => {
    ended = true;
    if (queue.length === 0) to.end();
  });
}

/**
 * Starts a proxy on a free loopback port in front of `upstream()` (host:port), read at each new connection, so the
 * proxy can be handed out before the upstream's address is known (a connection before then is refused).
 */
export async function startDelayProxy(upstream: () => string | undefined): Promise<DelayProxy> {
  let delayMs = 0;
  let opened = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const to = upstream();
    if (!to) {
      client.destroy();
      return;
    }
    opened += 1;
    const split = to.lastIndexOf(':');
    const target = net.connect({ host: to.slice(0, split), port: Number(to.slice(split + 1)) });
    sockets.add(client);
    sockets.add(target);
    const drop = () => {
      client.destroy();
      target.destroy();
      sockets.delete(client);
      sockets.delete(target);
    };
    client.on('error', drop);
    target.on('error', drop);
    client.on('close', drop);
    target.on('close', drop);
    delayedPipe(client, target, () => delayMs);
    delayedPipe(target, client, () => delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: own } = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${own}`,
    setDelay(ms) {
      delayMs = ms;
    },
    connections: () => opened,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
