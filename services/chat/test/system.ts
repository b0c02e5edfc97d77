import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropTopics, freePort, scratchDatabase, serverAddress } from '@platform/kit/testing';
import { ChatClient, type Account } from './client.ts';
import { startChat, type ChatProcess } from './processes.ts';

export type Servers = 'embedded' | 'real' | 'real-cluster';

export const TEST_SECRET = 'chat-test-secret-of-at-least-32-characters';

/** Settings that make tests quick: cheap password hashes, fast heartbeats and pulls. */
const QUICK = {
  TOKEN_SECRET: TEST_SECRET,
  PASSWORD_HASH_LOG_N: '10',
  SIGN_IN_RATE_LIMIT: '100000',
  HEARTBEAT_MS: '2000',
  PENDING_PULL_MS: '1000',
  DIRECTORY_TTL_MS: '3000',
  DIRECTORY_CACHE_MS: '200',
  ALLOWED_ORIGINS: 'https://chat.example',
  PRESENCE_FANOUT_MS: '400',
  LAST_SEEN_WRITE_MS: '1000',
  MAX_ASSET_BYTES: String(1024 * 1024),
  MAX_UPLOADS_PER_USER: '4',
  MAX_UPLOADS_IN_FLIGHT: '12',
  // The per-user limits stay out of the way of tests that flood (test/rate-limits sets its own).
  SEND_RATE_LIMIT: '1000000',
  GROUP_SEND_RATE_LIMIT: '10000000',
  TYPING_RATE_LIMIT: '1000000',
  GROUP_CREATE_RATE_LIMIT: '1000000',
  UPLOAD_RATE_LIMIT: '1000000',
};

export interface ChatSystem {
  handlers: ChatProcess[];
  /** The process running the group fan-out worker, when asked for (embedded: the one process). */
  fanout: ChatProcess | undefined;
  env: Record<string, string>;
  /** Starts one more handler process on the same servers. */
  addHandler(name: string): Promise<ChatProcess>;
  stop(): Promise<void>;
}

/** The environment of a chat process on those servers, and how to drop its data. */
export async function systemEnv(
  servers: Servers,
  options: { kafka?: boolean; overrides?: Record<string, string> } = {},
): Promise<{ env: Record<string, string>; drop: () => Promise<void> }> {
  // Empty counts as unset: whatever servers the test's own environment names, these decide.
  const env: Record<string, string> = {
    ...QUICK,
    DATA_DIR: mkdtempSync(join(tmpdir(), 'chat-data-')),
    KAFKA_BROKERS: '',
    REDIS_URL: '',
    REDIS_CLUSTER_NODES: '',
    MYSQL_URL: '',
    CASSANDRA_CONTACT_POINTS: '',
    OPENSEARCH_URL: '',
    OBJECT_STORE_DIR: '',
  };
  let drop = async (): Promise<void> => undefined;
  if (servers !== 'embedded') {
    const database = await scratchDatabase('chat_test');
    const prefix = `chat-test-${randomBytes(4).toString('hex')}.`;
    drop = async () => {
      await database.drop();
      if (options.kafka) await dropTopics(prefix);
    };
    Object.assign(env, {
      MYSQL_URL: database.url,
      REDIS_URL: serverAddress('REDIS_URL'),
      CASSANDRA_CONTACT_POINTS: serverAddress('CASSANDRA_CONTACT_POINTS'),
      // Rows are keyed by user ids each run makes up, so runs can share it.
      CASSANDRA_KEYSPACE: 'chat_test',
      NAME_PREFIX: prefix,
      OBJECT_STORE_DIR: mkdtempSync(join(tmpdir(), 'chat-objects-')),
    });
    // Topics and consumer groups get the NAME_PREFIX too.
    if (options.kafka) env.KAFKA_BROKERS = serverAddress('KAFKA_BROKERS');
    if (servers === 'real-cluster') {
      env.REDIS_URL = '';
      env.REDIS_CLUSTER_NODES = serverAddress('REDIS_CLUSTER_NODES');
    }
  }
  return { env: { ...env, ...options.overrides }, drop };
}

/**
 * The chat system as processes: embedded is one process (api and handler)
 * on SQLite, the in-process cache and object store; real is `handlers` processes on Redis
 * (standalone, or the cluster), Cassandra and MySQL (a scratch database, a
 * key prefix of its own) and a scratch object-store folder, the first also
 * serving the REST API. With `fanout`, the group fan-out worker runs too: its
 * own process on real servers (with Kafka), in the one process when embedded.
 * `env` replaces settings (the large tests slow the heartbeat and the pull down).
 */
export async function startSystem(
  servers: Servers,
  handlers = 2,
  options: { fanout?: boolean; env?: Record<string, string> } = {},
): Promise<ChatSystem> {
  const { env, drop } = await systemEnv(servers, {
    kafka: options.fanout === true,
    overrides: options.env ?? {},
  });
  const started: ChatProcess[] = [];
  const embeddedFanout = servers === 'embedded' && options.fanout === true;
  const addHandler = async (name: string) => {
    const first = embeddedFanout ? 'api,handler,fanout' : 'api,handler';
    const roles = started.length === 0 ? first : 'handler';
    const process = await startChat(
      name,
      roles,
      { port: await freePort(), adminPort: await freePort() },
      env,
    );
    started.push(process);
    return process;
  };
  for (let i = 1; i <= (servers === 'embedded' ? 1 : handlers); i++) await addHandler(`h${i}`);
  let fanout = embeddedFanout ? started[0] : undefined;
  const workers: ChatProcess[] = [];
  if (options.fanout && !embeddedFanout) {
    const ports = { port: await freePort(), adminPort: await freePort() };
    workers.push((fanout = await startChat('fanout', 'fanout', ports, env)));
  }
  return {
    handlers: started,
    fanout,
    env,
    addHandler,
    async stop() {
      await Promise.all([...started, ...workers].map((p) => p.kill('SIGKILL')));
      await drop();
    },
  };
}

export const unique = (prefix: string) => `${prefix}_${randomBytes(5).toString('hex')}`;

/** The chat system of one describe block, read inside its tests and hooks. */
export interface SystemInUse {
  readonly system: ChatSystem;
  /** The first handler's REST API. */
  readonly api: string;
  /** The first handler's and the last handler's WebSocket URLs (one process when embedded). */
  readonly wsA: string;
  readonly wsB: string;
  /** A client of that account, closed after the test. */
  connect(
    url: string,
    account: Account,
    options?: Parameters<typeof ChatClient.connect>[2],
  ): Promise<ChatClient>;
}

/**
 * Starts the system before the block's tests, closes the clients each test connected after
 * it, and stops the system after them all.
 */
export function useSystem(
  servers: Servers,
  handlers?: number,
  options?: Parameters<typeof startSystem>[2],
): SystemInUse {
  let running: { system: ChatSystem; api: string; wsA: string; wsB: string } | undefined;
  const clients: ChatClient[] = [];
  const started = () => {
    if (!running) throw new Error('the system is read before its beforeAll started it');
    return running;
  };

  beforeAll(async () => {
    const system = await startSystem(servers, handlers, options);
    // The handlers as they were at start: one a test adds later is not the block's wsB.
    const [first, last] = [system.handlers[0]!, system.handlers.at(-1)!];
    running = { system, api: first.url, wsA: first.wsUrl, wsB: last.wsUrl };
  }, 120_000);
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });
  afterAll(async () => {
    await running?.system.stop();
  });

  return {
    get system() {
      return started().system;
    },
    get api() {
      return started().api;
    },
    get wsA() {
      return started().wsA;
    },
    get wsB() {
      return started().wsB;
    },
    async connect(url, account, connectOptions) {
      const client = await ChatClient.connect(url, account.token, connectOptions);
      clients.push(client);
      return client;
    },
  };
}
