import { register } from 'node:module';
import type { NodeSDK } from '@opentelemetry/sdk-node';

/**
 * Starts the OpenTelemetry NodeSDK exporting over OTLP when an endpoint is
 * configured. Call it before the modules it instruments are imported: entry
 * points import this first and load the rest dynamically. The loader hook
 * lets the instrumentations patch ES modules imported after it.
 */
export async function startTracing(
  service: string,
  endpoint: string | undefined,
): Promise<NodeSDK | undefined> {
  if (!endpoint) return undefined;
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);

  const [{ NodeSDK }, { getNodeAutoInstrumentations }, { OTLPTraceExporter }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/auto-instrumentations-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
  ]);

  const sdk = new NodeSDK({
    serviceName: service,
    traceExporter: new OTLPTraceExporter({ url: `${endpoint.replace(/\/$/, '')}/v1/traces` }),
    instrumentations: [
      getNodeAutoInstrumentations({ '@opentelemetry/instrumentation-fs': { enabled: false } }),
    ],
  });
  sdk.start();
  return sdk;
}
