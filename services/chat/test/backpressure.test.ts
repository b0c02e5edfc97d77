import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { freePort } from '@platform/kit/testing';
import { directConversationId } from '../src/domain/conversation.ts';
import { ChatClient, signUp, upgradeStatus, type Account } from './client.ts';
import { startChat, type ChatProcess } from './processes.ts';
import { startSystem, systemEnv, unique, type ChatSystem } from './system.ts';

/** A WebSocket client that completes the upgrade and then never reads a byte. */
function silentClient(port: number, token: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(
        'GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
          `Authorization: Bearer ${token}\r\n\r\n`,
      );
      socket.pause();
      setTimeout(() => resolve(socket), 300);
    });
    socket.on('error', reject);
  });
}

const bearer = (account: Account) => ({ authorization: `Bearer ${account.token}` });

/** A counter's value in the Prometheus text of /metrics. */
async function counter(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
}

/** The value of the series with a label, e.g. labelled(url, 'chat_deliveries_total', 'outcome="ok"'). */
async function labelled(url: string, name: string, label: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`${name}{`) && l.slice(0, l.indexOf('}')).includes(label));
  return Number(line?.split(' ')[1] ?? Number.NaN);
}

describe('backpressure on embedded stand-ins', () => {
  let handler: ChatProcess;

  beforeAll(async () => {
    const { env } = await systemEnv('embedded');
    // Small queues and large frames, so a client that stops reading fills them quickly.
    handler = await startChat(
      'h-slow',
      'api,handler',
      { port: await freePort(), adminPort: await freePort() },
      {
        ...env,
        SEND_QUEUE_LIMIT: '16',
        MAX_BODY_CHARS: '60000',
        MAX_FRAME_BYTES: '131072',
        HEARTBEAT_MS: '60000',
        MAX_CONNECTIONS_PER_USER: '3',
      },
    );
  }, 120_000);

  afterAll(async () => {
    await handler?.kill('SIGKILL');
  });

  test('a client that stops reading loses typing first, is closed, and then gets every message', async () => {
    const [alice, bob] = await Promise.all([
      signUp(handler.url, unique('alice')),
      signUp(handler.url, unique('bob')),
    ]);
    const conversation = directConversationId(alice.userId, bob.userId);
    const a = await ChatClient.connect(handler.wsUrl, alice.token);
    const silent = await silentClient(Number(new URL(handler.url).port), bob.token);

    const body = 'x'.repeat(50_000);
    let seq = 0;
    while (seq < 2000) {
      for (let i = 0; i < 20; i++)
        a.send({ type: 'typing', conversationId: conversation, typing: true });
      await a.sendMessage(conversation, ++seq, `${seq} ${body}`);
      if (seq % 20 === 0 && (await counter(handler.url, 'chat_slow_consumers_closed_total')) > 0) {
        break;
      }
    }
    expect(await counter(handler.url, 'chat_slow_consumers_closed_total')).toBe(1);
    expect(await counter(handler.url, 'chat_typing_dropped_total')).toBeGreaterThan(0);

    // Bob comes back and reads: everything is still pending, nothing was lost.
    silent.destroy();
    const again = await ChatClient.connect(handler.wsUrl, bob.token);
    const seen = new Set<number>();
    const deadline = Date.now() + 20_000;
    while (seen.size < seq && Date.now() < deadline) {
      for (const m of again.inbox.conversation(conversation)) seen.add(m.clientSeq);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(seen.size).toBe(seq);
    // The message that found the queue full counts as a failed delivery; every message reached
    // a socket in the end, through the reconnected connection's pending backfill.
    const deliveries = (outcome: string) =>
      labelled(handler.url, 'chat_deliveries_total', `outcome="${outcome}"`);
    expect(await deliveries('error')).toBeGreaterThanOrEqual(1);
    expect(await deliveries('ok')).toBeGreaterThanOrEqual(seq);
    await Promise.all([a.close(), again.close()]);
  });

  test("one user's connections to a handler are capped, also when they race", async () => {
    const [alice, bob] = await Promise.all([
      signUp(handler.url, unique('alice')),
      signUp(handler.url, unique('bob')),
    ]);
    // Each connection of a user gets its pending messages queued: without a cap, one token
    // opening thousands of silent connections holds that many copies in the handler.
    const attempts = await Promise.all(
      Array.from(
        { length: 12 },
        () =>
          new Promise<{ ws: WebSocket; status: number; ready: boolean }>((resolve) => {
            const ws = new WebSocket(handler.wsUrl, {
              headers: { authorization: `Bearer ${alice.token}` },
            });
            ws.on('error', () => undefined);
            ws.on('message', (data) => {
              if ((JSON.parse(data.toString()) as { type: string }).type === 'ready') {
                resolve({ ws, status: 101, ready: true });
              }
            });
            ws.once('unexpected-response', (_req, res) =>
              resolve({ ws, status: res.statusCode ?? 0, ready: false }),
            );
            ws.once('close', () => resolve({ ws, status: 101, ready: false }));
          }),
      ),
    );
    const open = attempts.filter((a) => a.ready && a.ws.readyState === WebSocket.OPEN);
    expect(open).toHaveLength(3);
    expect(attempts.filter((a) => !a.ready).every((a) => [429, 101].includes(a.status))).toBe(true);
    const load = await (await fetch(`${handler.adminUrl}/admin/load`)).json();
    expect(load).toMatchObject({ connections: 3 });

    // Sequentially: the fourth is refused before the upgrade; others are not affected.
    expect(await upgradeStatus(handler.wsUrl, { headers: bearer(alice) })).toBe(429);
    expect(await upgradeStatus(handler.wsUrl, { headers: bearer(bob) })).toBe(101);
    const closed = new Promise((resolve) => open[0]!.ws.once('close', resolve));
    open[0]!.ws.close();
    await closed;
    let status = 0;
    for (let tries = 0; tries < 50 && status !== 101; tries++) {
      status = await upgradeStatus(handler.wsUrl, { headers: bearer(alice) });
      if (status !== 101) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(status).toBe(101);
    for (const attempt of attempts) attempt.ws.terminate();
  });

  test('a peer that answers no ping is cut off within HEARTBEAT_MS', async () => {
    const { env } = await systemEnv('embedded');
    const beating = await startChat(
      'h-beat',
      'api,handler',
      { port: await freePort(), adminPort: await freePort() },
      { ...env, HEARTBEAT_MS: '1000' },
    );
    try {
      const carol = await signUp(beating.url, unique('carol'));
      const silent = await silentClient(Number(new URL(beating.url).port), carol.token);
      const gauge = () => counter(beating.url, 'chat_connections');
      expect(await gauge()).toBe(1);
      const started = Date.now();
      while ((await gauge()) > 0 && Date.now() - started < 5000) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(Date.now() - started).toBeLessThan(1500);
      expect(await counter(beating.url, 'chat_dead_peers_total')).toBe(1);
      silent.destroy();
    } finally {
      await beating.kill('SIGKILL');
    }
  });
});

describe('reading on real servers', () => {
  let system: ChatSystem;

  beforeAll(async () => {
    system = await startSystem('real', 1, {
      env: { MAX_BODY_CHARS: '60000', MAX_FRAME_BYTES: '131072' },
    });
  }, 120_000);

  afterAll(async () => {
    await system?.stop();
  });

  test('a client sending faster than its events are handled is read only as fast as they are', async () => {
    const [alice, bob] = await Promise.all([
      signUp(system.handlers[0]!.url, unique('alice')),
      signUp(system.handlers[0]!.url, unique('bob')),
    ]);
    const conversation = directConversationId(alice.userId, bob.userId);
    const a = await ChatClient.connect(system.handlers[0]!.wsUrl, alice.token);

    // 600 sends of 60 KB (36 MB) written at once. Unbounded, the handler would read them as
    // fast as they come and keep every one in memory until stored, hundreds at a time; bounded,
    // it stops reading while EVENTS_IN_FLIGHT (64) are being handled: TCP holds the rest back.
    const total = 600;
    const body = 'x'.repeat(60_000);
    for (let seq = 1; seq <= total; seq++) {
      a.send({ type: 'send_message', conversationId: conversation, clientSeq: seq, body });
    }
    const acks = () => a.events.filter((e) => e.type === 'ack').length;
    let most = 0;
    while (acks() < total && a.closeCode === undefined) {
      most = Math.max(most, await counter(system.handlers[0]!.url, 'chat_client_events_in_flight'));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // A socket read delivers a 64 KB chunk's frames at once: one more 60 KB frame at most.
    expect(most).toBeLessThanOrEqual(65);
    expect(most).toBeGreaterThan(16);

    expect(a.closeCode).toBeUndefined();
    const seqs = a.events
      .filter((e) => e.type === 'ack')
      .map((e) => (e as { clientSeq: number }).clientSeq);
    expect(seqs).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    await a.close();
  }, 60_000);
});
