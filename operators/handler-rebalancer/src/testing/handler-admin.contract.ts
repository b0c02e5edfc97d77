import { setTimeout as sleep } from 'node:timers/promises';
import { httpHandlerAdmin } from '../handler-admin.ts';

/**
 * The handler admin contract (README.md) as a test suite, for any handler
 * that claims to serve it: the tests' stand-in, and the chat service's real
 * WebSocket handler. Call it from a *.test.ts with a way to start the handler
 * and to open client connections to it.
 */
export interface HandlerUnderTest {
  /** Base URL of the admin API, e.g. http://127.0.0.1:9121 */
  adminUrl: string;
  /** The name GET /admin/load must report (the pod's name). */
  name: string;
  /**
   * Opens `count` client connections and resolves once the handler counts them. The clients
   * must not reconnect when closed, or the counts the suite expects would not hold.
   */
  connect(count: number): Promise<void>;
  stop(): Promise<void>;
}

export function handlerAdminContract(label: string, start: () => Promise<HandlerUnderTest>): void {
  describe(`handler admin contract: ${label}`, () => {
    const admin = httpHandlerAdmin(2000);
    let handler: HandlerUnderTest;

    beforeEach(async () => {
      handler = await start();
    });

    afterEach(async () => {
      await handler.stop();
    });

    const load = () => admin.load(handler.adminUrl);
    const post = (body: unknown) =>
      fetch(`${handler.adminUrl}/admin/drain`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    const settled = async (timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const now = await load();
        if (now.draining === 0 || Date.now() > deadline) return now;
        await sleep(50);
      }
    };

    it('reports its name, its connections and no drain, within 500 ms', async () => {
      await handler.connect(12);
      const started = Date.now();
      expect(await load()).toEqual({ handler: handler.name, connections: 12, draining: 0 });
      expect(Date.now() - started).toBeLessThan(500);
    });

    it('accepts a drain at once and closes that many, spread over time', async () => {
      await handler.connect(30);
      expect(await admin.drain(handler.adminUrl, { connections: 20, perSecond: 20 })).toBe(20);

      // Never more than one second's worth at once.
      await sleep(200);
      const early = await load();
      expect(early.connections).toBeGreaterThanOrEqual(30 - 20 - 0.5 * 20);
      expect(early.draining).toBeGreaterThan(0);
      expect(early.connections - early.draining).toBe(10);

      const done = await settled(5000);
      expect(done).toMatchObject({ connections: 10, draining: 0 });
    });

    it('replaces a drain in progress rather than adding to it', async () => {
      await handler.connect(100);
      await admin.drain(handler.adminUrl, { connections: 80, perSecond: 2 });
      expect(await admin.drain(handler.adminUrl, { connections: 10, perSecond: 100 })).toBe(10);
      const done = await settled(5000);
      // 100 less the second drain's 10, less what the first closed in the meantime (≤ 2 or so).
      expect(done.draining).toBe(0);
      expect(done.connections).toBeGreaterThanOrEqual(87);
      expect(done.connections).toBeLessThanOrEqual(90);
    });

    it('cancels a drain when asked for 0 connections', async () => {
      await handler.connect(50);
      await admin.drain(handler.adminUrl, { connections: 40, perSecond: 2 });
      expect(await admin.drain(handler.adminUrl, { connections: 0, perSecond: 2 })).toBe(0);
      expect((await load()).draining).toBe(0);
      await sleep(1500);
      expect((await load()).connections).toBeGreaterThanOrEqual(47);
    });

    it('accepts no more than it holds', async () => {
      await handler.connect(5);
      expect(await admin.drain(handler.adminUrl, { connections: 50, perSecond: 100 })).toBe(5);
      expect(await settled(3000)).toMatchObject({ connections: 0, draining: 0 });
    });

    it('refuses a bad request with 400 naming the field, and changes nothing', async () => {
      await handler.connect(10);
      const cases: [unknown, string | undefined][] = [
        [{ connections: -1, perSecond: 10 }, 'connections'],
        [{ connections: 2.5, perSecond: 10 }, 'connections'],
        [{ perSecond: 10 }, 'connections'],
        [{ connections: 5, perSecond: 0 }, 'perSecond'],
        [{ connections: 5, perSecond: 'fast' }, 'perSecond'],
        ['{not json', undefined],
      ];
      for (const [body, field] of cases) {
        const answer = await post(body);
        expect(answer.status).toBe(400);
        // The platform's error body, as every service's API answers.
        const { error } = (await answer.json()) as { error: { code: string; field?: string } };
        expect(error.code).toBe('invalid_request');
        if (field) expect(error.field).toBe(field);
      }
      await sleep(300);
      expect(await load()).toMatchObject({ connections: 10, draining: 0 });
    });
  });
}
