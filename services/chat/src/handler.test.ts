import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { createLogger, createMetrics } from '@platform/kit';
import type { Tokens } from './auth.ts';
import type { Directory } from './directory.ts';
import { ConnectionPlane } from './handler.ts';
import type { MessageService } from './messages.ts';
import { chatMetrics } from './metrics.ts';
import type { PresenceService } from './presence.ts';
import type { UserRateLimits } from './rate-limits.ts';
import type { Router } from './router.ts';

describe('connection plane timers', () => {
  test('a pending pull slower than PENDING_PULL_MS is not joined by the next one', async () => {
    let running = 0;
    let most = 0;
    let pulls = 0;
    const messages = {
      pending: async () => {
        pulls += 1;
        if (pulls === 1) return []; // the connection's backfill
        most = Math.max(most, ++running);
        await new Promise((resolve) => setTimeout(resolve, 400));
        running -= 1;
        return [];
      },
    } as unknown as MessageService;
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const plane = new ConnectionPlane({
      server,
      options: {
        handlerId: 'h1',
        allowedOrigins: [],
        heartbeatMs: 60_000,
        maxFrameBytes: 16_384,
        maxBodyChars: 4000,
        maxAttachments: 10,
        sendQueueLimit: 512,
        maxBufferedBytes: 1_048_576,
        maxConnections: 10,
        maxConnectionsPerUser: 10,
        directoryTtlMs: 60_000,
        pendingPullMs: 50,
      },
      tokens: { verify: async () => 'u1' } as unknown as Tokens,
      directory: {
        register: async () => undefined,
        unregister: async () => undefined,
      } as unknown as Directory,
      router: { listen: async () => async () => undefined } as unknown as Router,
      messages,
      presence: {
        connected: async () => undefined,
        disconnected: async () => undefined,
        refresh: async () => undefined,
        sweep: async () => 0,
        close: () => undefined,
      } as unknown as PresenceService,
      limits: {} as unknown as UserRateLimits,
      metrics: chatMetrics(createMetrics('chat-test'), 'h1'),
      logger: createLogger('chat-test', 'silent'),
    });
    await plane.start();
    const { port } = server.address() as AddressInfo;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, {
      headers: { authorization: 'Bearer any' },
    });
    await new Promise((resolve) => ws.once('message', resolve));

    // Twenty intervals of 50 ms against pulls that take 400 ms each.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(pulls).toBeGreaterThanOrEqual(3);
    expect(most).toBe(1);

    ws.terminate();
    await plane.close();
    await new Promise((resolve) => server.close(resolve));
  });
});
