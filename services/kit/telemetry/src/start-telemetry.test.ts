import { trace } from '@opentelemetry/api';
import { startTelemetry } from './start-telemetry';

describe('startTelemetry', () => {
  it("exports API spans to the memory exporter with the service's resource", async () => {
    const telemetry = startTelemetry({
      serviceName: 'orders',
      serviceVersion: '1.2.3',
      deploymentEnvironment: 'test',
      traces: 'memory',
    });
    try {
      trace.getTracer('test').startSpan('place order').end();
      await telemetry.forceFlush();

      const spans = telemetry.memoryExporter!.getFinishedSpans();
      expect(spans.map((span) => span.name)).toEqual(['place order']);
      expect(spans[0]!.resource.attributes).toMatchObject({
        'service.name': 'orders',
        'service.version': '1.2.3',
        'service.namespace': 'o2o',
        'deployment.environment.name': 'test',
        'process.runtime.name': 'nodejs',
      });
      // Only env, host, os and process detectors ran: no cloud.* attributes from metadata probes.
      expect(Object.keys(spans[0]!.resource.attributes).filter((key) => key.startsWith('cloud.'))).toEqual([]);
    } finally {
      await telemetry.shutdown();
    }
  });

  it('can be started again after shutdown, as tests in one process do', async () => {
    const first = startTelemetry({ serviceName: 'first', traces: 'memory' });
    await first.shutdown();
    const second = startTelemetry({ serviceName: 'second', traces: 'memory' });
    try {
      trace.getTracer('test').startSpan('again').end();
      await second.forceFlush();
      expect(second.memoryExporter!.getFinishedSpans()[0]?.resource.attributes['service.name']).toBe('second');
    } finally {
      await second.shutdown();
    }
  });

  it("registers no tracer provider for traces 'none' and exposes no memory exporter", async () => {
    const telemetry = startTelemetry({ serviceName: 'quiet', traces: 'none' });
    try {
      expect(telemetry.memoryExporter).toBeUndefined();
      expect(trace.getTracer('test').startSpan('nothing').isRecording()).toBe(false);
    } finally {
      await telemetry.shutdown();
    }
  });
});
