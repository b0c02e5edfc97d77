import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

const fixture = fileURLToPath(new URL('./fixtures/traced-app.ts', import.meta.url));

/** A stand-in OTLP/HTTP collector that keeps what it receives. */
async function collector() {
  const received: { path: string; type: string; body: Buffer }[] = [];
  const server = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    received.push({
      path: req.url ?? '',
      type: req.headers['content-type'] ?? '',
      body: Buffer.concat(chunks),
    });
    res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { received, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

function run(args: string[]): Promise<number | null> {
  const child = spawn(process.execPath, [fixture, ...args], { stdio: 'inherit' });
  return new Promise((resolve) => child.once('exit', resolve));
}

describe('tracing', () => {
  it('exports the spans of an HTTP request over OTLP when an endpoint is set', async () => {
    const otlp = await collector();
    expect(await run([otlp.url])).toBe(0);
    otlp.server.close();

    const traces = otlp.received.filter((r) => r.path === '/v1/traces');
    expect(traces.length).toBeGreaterThan(0);
    const payload = Buffer.concat(traces.map((t) => t.body)).toString('latin1');
    expect(payload).toContain('traced-fixture');
    expect(payload).toContain('/things/:id');
  });

  it('exports nothing and still serves when no endpoint is set', async () => {
    expect(await run([])).toBe(0);
  });
});
