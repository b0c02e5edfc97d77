// npm run bench:chat [-- --quick] [--rounds N] [--seconds S] [--connections N] [--out FILE]:
// messages delivered per second and send-to-deliver latency through the chat
// handlers on the real servers (Redis, Cassandra, MySQL), 2,000 WebSocket
// connections in one-to-one pairs spread over three handler processes,
// against a bare `ws` echo server measured with the same client and as many
// connections in the same round. Writes its section of docs/benchmarks.md (or
// FILE). Needs the servers' addresses: eval "$(npm run -s infra -- env)".
// --quick (1 round of 3 s) only shows that it works.
import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort, loadAverage, machine, median, writeSection } from '@platform/kit/testing';
import { HandlerService, inBatches, type ReconnectingClient } from '../test/reconnecting-client.ts';
import { startSystem, type ChatSystem } from '../test/system.ts';
import {
  directConversations,
  makeClients,
  quantile,
  registerUsers,
  type Conversation,
} from '../test/workload.ts';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const { values: options } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    connections: { type: 'string', default: '2000' },
    out: { type: 'string', default: here('../../../docs/benchmarks.md') },
  },
});

const ROUNDS = Number(options.rounds ?? (options.quick ? 1 : 3));
const SECONDS = Number(options.seconds ?? (options.quick ? 3 : 10));
const WARM_UP_SECONDS = options.quick ? 1 : 2;
const CONNECTIONS = Number(options.connections);
const HANDLERS = 3;

/** One timed run of a closed loop: each sender sends its next message once the last arrived. */
interface Figures {
  perSecond: number;
  p50: number;
  p99: number;
  /** Sends answered with `internal` (resent by the client). */
  failed: number;
  /** Sent in the run and not delivered 30 s after it (printed, expected 0). */
  undelivered: number;
}

/**
 * Every client sends; the message's body is its send time. In a closed loop
 * (no `perSecond`) its next message goes when the last one reached its
 * recipient (the peer in chat, itself on the echo server); paced, the
 * senders take turns to send `perSecond` messages a second in all. Counted
 * at the recipient, within the timed window.
 */
async function run(
  pairs: { sender: ReconnectingClient; recipient: ReconnectingClient; conversation: string }[],
  seconds: number,
  warmUpSeconds: number,
  perSecond?: number,
): Promise<Figures> {
  const latencies: number[] = [];
  const timers: NodeJS.Timeout[] = [];
  let counting = false;
  let running = true;
  let sent = 0;
  let delivered = 0;
  const failedBefore = pairs.reduce((sum, p) => sum + p.sender.internalErrors, 0);
  const nexts = pairs.map(({ sender, recipient, conversation }) => {
    const next = () => {
      if (!running) return;
      sender.send(conversation, String(performance.now()));
      sent++;
    };
    recipient.onFirstDelivery = (message, at) => {
      if (message.sender !== sender.userId && sender !== recipient) return;
      delivered++;
      if (counting) latencies.push(at - Number(message.body));
      if (perSecond === undefined) next();
    };
    return next;
  });
  if (perSecond === undefined) for (const next of nexts) next();
  else {
    // One ticker for all: the senders take turns, perSecond in all from the first tick on.
    const TICK_MS = 20;
    let owed = 0;
    let turn = 0;
    timers.push(
      setInterval(() => {
        for (owed += (perSecond * TICK_MS) / 1000; owed >= 1; owed--) {
          nexts[turn++ % nexts.length]!();
        }
      }, TICK_MS),
    );
  }
  await new Promise((resolve) => setTimeout(resolve, warmUpSeconds * 1000));
  counting = true;
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  counting = false;
  running = false;
  for (const timer of timers) clearInterval(timer);
  const failed = pairs.reduce((sum, p) => sum + p.sender.internalErrors, 0) - failedBefore;
  // Let what is in flight land before the next run starts, so that none of it counts there
  // (a forward lost under load arrives with the pending pull, up to PENDING_PULL_MS later).
  const deadline = Date.now() + 30_000;
  while (delivered < sent && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
  for (const { recipient } of pairs) recipient.onFirstDelivery = undefined;
  return {
    perSecond: Math.round(latencies.length / seconds),
    p50: latencies.length ? quantile(latencies, 0.5) : NaN,
    p99: latencies.length ? quantile(latencies, 0.99) : NaN,
    failed,
    undelivered: sent - delivered,
  };
}

async function startEcho(): Promise<{ wsUrl: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, [here('./echo-server.ts'), String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`echo server exited ${code}`)));
  });
  return { wsUrl: `ws://127.0.0.1:${port}/ws`, child };
}

async function main(): Promise<void> {
  const load = loadAverage();
  const echo = await startEcho();
  // The defaults a deployment runs with, not the tests' quick heartbeat and pull.
  const system: ChatSystem = await startSystem('real', HANDLERS, {
    env: {
      HEARTBEAT_MS: '30000',
      PENDING_PULL_MS: '10000',
      DIRECTORY_TTL_MS: '30000',
      DIRECTORY_CACHE_MS: '1000',
    },
  });
  const all: ReconnectingClient[] = [];
  try {
    // The echo server's clients: each one its own recipient.
    const echoService = new HandlerService();
    echoService.setReady([echo.wsUrl]);
    const echoClients = await makeClients(CONNECTIONS, echoService);
    all.push(...echoClients);
    await inBatches(echoClients, 100, (c) => c.start());
    const echoPairs = echoClients.map((c, i) => ({
      sender: c,
      recipient: c,
      conversation: `echo-${i}`,
    }));

    // Chat: client i on handler i mod 3, pairs (2k, 2k + 1) across handlers, both sending.
    const service = new HandlerService();
    service.setReady(system.handlers.map((h) => h.wsUrl));
    const chatClients = await makeClients(CONNECTIONS, service);
    await registerUsers(chatClients, system.env.MYSQL_URL!);
    all.push(...chatClients);
    await inBatches(
      chatClients.map((client, i) => ({ client, i })),
      100,
      ({ client, i }) => client.start(system.handlers[i % HANDLERS]!.wsUrl),
    );
    const conversations: Conversation[] = directConversations(chatClients);
    const chatPairs = conversations.flatMap(({ id, members: [a, b] }) => [
      { sender: a!, recipient: b!, conversation: id },
      { sender: b!, recipient: a!, conversation: id },
    ]);

    const rounds: Round[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      console.log(`round ${round} of ${ROUNDS}`);
      const echoFigures = await run(echoPairs, SECONDS, WARM_UP_SECONDS);
      const chatFigures = await run(chatPairs, SECONDS, WARM_UP_SECONDS);
      const pace = Math.max(1, Math.round(chatFigures.perSecond / 2));
      const pacedFigures = await run(chatPairs, SECONDS, WARM_UP_SECONDS, pace);
      rounds.push({ echo: echoFigures, chat: chatFigures, paced: pacedFigures, pace });
      console.log(JSON.stringify(rounds.at(-1)));
    }

    await writeSection(options.out, 'chat', section(rounds, load, loadAverage()));
    console.log(`wrote the chat section of ${options.out}`);
  } finally {
    await Promise.all(all.map((c) => c.stop()));
    await system.stop();
    echo.child.kill('SIGTERM');
  }
}

interface Round {
  echo: Figures;
  chat: Figures;
  /** Chat at half its closed-loop rate of the round: latency without the queue. */
  paced: Figures;
  /** Messages a second the paced run sent. */
  pace: number;
}

function section(rounds: Round[], load: number, loadAtEnd: number): string {
  const med = (pick: (r: Round) => number) => median(rounds.map(pick));
  const ratio = med((r) => r.chat.perSecond / r.echo.perSecond);
  const ms = (n: number) => (n < 10 ? n.toFixed(2) : n.toFixed(0));
  return [
    '## Chat, on real servers',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} by \`npm run bench:chat\` on ${machine()}, ` +
      `real servers (Redis, Cassandra, MariaDB on this machine); load average ${load} when it ` +
      `started, ${loadAtEnd} when it ended. ${CONNECTIONS} WebSocket connections from one client process, in a closed loop: ` +
      'every connection sends a message and its next one once the last reached its recipient; ' +
      `${SECONDS} s per run after a ${WARM_UP_SECONDS} s warm-up, ${ROUNDS} ` +
      `round${ROUNDS === 1 ? '' : 's'}, medians shown. The ratio is the median over the rounds ` +
      "of each round's chat figure against the echo server's of the same round." +
      (options.quick ? ' Quick mode: a short run that shows the benchmark works.' : ''),
    '',
    '- **bare `ws` echo**: a `ws` server in its own process answers each `send_message` with an ' +
      '`ack` and the message itself on the same connection. Nothing stored or routed.',
    `- **chat, ${HANDLERS} handlers**: ${CONNECTIONS / 2} one-to-one conversations, the two ` +
      `members on different handlers, both sending: claim, store and pending row in Cassandra, ` +
      "ack, directory lookup and Redis pub/sub to the peer's handler, delivery, `delivery_ack`. " +
      'Latency is from the send to the message reaching the recipient, measured on the ' +
      'recipient side (one process, one clock). In the closed loop every connection has a ' +
      'message in flight, so its latency is mostly queueing.',
    '- **chat, paced**: the same clients taking turns to send, at half the closed-loop rate of ' +
      'the round in all: the latency of a load the handlers should keep up with (when they do ' +
      'not, fewer are delivered than sent).',
    '',
    '| scenario | delivered msg/s | ratio to echo | p50 ms | p99 ms | internal errors |',
    '| --- | --- | --- | --- | --- | --- |',
    `| bare ws echo | ${med((r) => r.echo.perSecond)} | 1.00 | ${ms(med((r) => r.echo.p50))} | ` +
      `${ms(med((r) => r.echo.p99))} | ${med((r) => r.echo.failed)} |`,
    `| chat, ${HANDLERS} handlers | ${med((r) => r.chat.perSecond)} | ${ratio.toFixed(3)} | ` +
      `${ms(med((r) => r.chat.p50))} | ${ms(med((r) => r.chat.p99))} | ` +
      `${med((r) => r.chat.failed)} |`,
    `| chat, paced at ${med((r) => r.pace)}/s | ${med((r) => r.paced.perSecond)} | | ` +
      `${ms(med((r) => r.paced.p50))} | ${ms(med((r) => r.paced.p99))} | ` +
      `${med((r) => r.paced.failed)} |`,
  ].join('\n');
}

await main();
