import { execFileSync, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';

// jest's module registry bypasses require-in-the-middle, so instrumentation is tested in a plain node child
// process that loads the compiled package, exactly as a service's bin.ts does. Loopback only.
const PACKAGE_DIR = path.resolve(__dirname, '..');
const FIXTURE = path.join(PACKAGE_DIR, 'test/fixtures/grpc-roundtrip.js');

interface RoundTrip {
  reply: { echo: string };
  serverTraceparent?: string;
  spans: { name: string; kind: number; traceId: string; spanId: string; parentSpanId?: string; serviceName: string }[];
  shutdownMs: number;
}

function runFixture(...args: string[]): { result: RoundTrip; stderrLines: string[] } {
  const child = spawnSync(process.execPath, [FIXTURE, ...args], { encoding: 'utf8', timeout: 30_000 });
  if (child.status !== 0) throw new Error(`fixture failed (${child.status ?? child.signal}): ${child.stderr}`);
  return { result: JSON.parse(child.stdout) as RoundTrip, stderrLines: child.stderr.split('\n').filter(Boolean) };
}

async function unusedLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(() => {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', PACKAGE_DIR], { stdio: 'inherit' });
}, 120_000);

describe('grpc-js instrumentation', () => {
  it('puts the client span and the server span of one call in one trace', () => {
    const { result } = runFixture('memory');

    expect(result.reply).toEqual({ echo: 'hi' });
    const client = result.spans.find((span) => span.kind === 2); // SpanKind.CLIENT
    const server = result.spans.find((span) => span.kind === 1); // SpanKind.SERVER
    expect(client?.name).toBe('grpc.o2o.test.v1.Echo/Say');
    expect(server?.name).toBe('grpc.o2o.test.v1.Echo/Say');
    expect(server?.traceId).toBe(client?.traceId);
    expect(server?.parentSpanId).toBe(client?.spanId);
    expect(server?.serviceName).toBe('grpc-roundtrip');
    // The handler saw the server span as its active context.
    expect(result.serverTraceparent).toBe(`00-${server?.traceId}-${server?.spanId}-01`);
  });

  it('keeps serving and shuts down promptly when no OTLP collector listens', async () => {
    const { result, stderrLines } = runFixture('otlp', String(await unusedLoopbackPort()));

    expect(result.reply).toEqual({ echo: 'hi' });
    expect(result.shutdownMs).toBeLessThan(10_000);
    // The failed export is reported, once, as a JSON log line.
    expect(stderrLines).toHaveLength(1);
    expect(JSON.parse(stderrLines[0]!)).toMatchObject({ level: 'error', service: 'grpc-roundtrip' });
    expect(stderrLines[0]).toContain('UNAVAILABLE');
  });
});
