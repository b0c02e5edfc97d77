import { fileURLToPath } from 'node:url';
import type { Lifecycle } from '@platform/kit';

/** One process of a system as the launcher starts it when servers are configured. */
export interface ProcessSpec {
  name: string;
  role: string;
  /** The port of its HTTP server, polled on /readyz before the platform reports ready. */
  port: number;
  env: Record<string, string>;
}

export interface SystemSpec {
  name: string;
  port: number;
  /** The system's entry point: `node <entry> <role>...`. */
  entry: string;
  /** The processes to run when every server address is set. */
  processes: ProcessSpec[];
  /** Starts every process of the system inside this one, on whatever adapters are configured. */
  runInProcess(): Promise<Lifecycle>;
}

const entry = (system: string) =>
  fileURLToPath(new URL(`../../${system}/src/main.ts`, import.meta.url));

/** The systems `npm start` runs, with their fixed public ports. */
export const SYSTEMS: SystemSpec[] = [
  {
    name: 'url-shortener',
    port: 8081,
    entry: entry('url-shortener'),
    processes: [
      {
        name: 'token-service-1',
        role: 'token-service',
        port: 9101,
        env: { TOKEN_SERVICE_PORT: '9101' },
      },
      {
        name: 'token-service-2',
        role: 'token-service',
        port: 9102,
        env: { TOKEN_SERVICE_PORT: '9102' },
      },
      {
        name: 'click-aggregator',
        role: 'click-aggregator',
        port: 9103,
        env: { AGGREGATOR_PORT: '9103' },
      },
      {
        name: 'api',
        role: 'api',
        port: 8081,
        env: { PORT: '8081', TOKEN_SERVICE_URLS: 'http://127.0.0.1:9101,http://127.0.0.1:9102' },
      },
    ],
    async runInProcess() {
      const { readConfig, runUrlShortener } = await import('@platform/url-shortener');
      // The API leases code ranges itself here: no token service, and one port.
      return (await runUrlShortener(readConfig(), ['api', 'click-aggregator'])).lifecycle;
    },
  },
  {
    name: 'hotel-booking',
    port: 8082,
    entry: entry('hotel-booking'),
    processes: [
      {
        name: 'hold-releaser',
        role: 'hold-releaser',
        port: 9111,
        env: { RELEASER_PORT: '9111' },
      },
      { name: 'event-relay', role: 'event-relay', port: 9112, env: { RELAY_PORT: '9112' } },
      { name: 'notifier', role: 'notifier', port: 9113, env: { NOTIFIER_PORT: '9113' } },
      { name: 'archiver', role: 'archiver', port: 9114, env: { ARCHIVER_PORT: '9114' } },
      {
        name: 'search-indexer',
        role: 'search-indexer',
        port: 9115,
        env: { SEARCH_INDEXER_PORT: '9115' },
      },
      { name: 'api', role: 'api', port: 8082, env: { PORT: '8082' } },
    ],
    async runInProcess() {
      const { readConfig, runHotelBooking, ROLES } = await import('@platform/hotel-booking');
      return (await runHotelBooking(readConfig(), [...ROLES])).lifecycle;
    },
  },
  {
    name: 'navigation',
    port: 8084,
    entry: entry('navigation'),
    processes: [{ name: 'api', role: 'api', port: 8084, env: { PORT: '8084' } }],
    async runInProcess() {
      const { readConfig, runNavigation } = await import('@platform/navigation');
      const running = await runNavigation(readConfig());
      // Ready means routable: wait for the graph, as the launcher waits for /readyz elsewhere.
      await running.ready;
      return running.lifecycle;
    },
  },
  {
    name: 'chat',
    port: 8085,
    entry: entry('chat'),
    processes: [
      // The first handler also serves the REST API; in a cluster a Service spreads /ws over them.
      {
        name: 'handler-1',
        role: 'api,handler',
        port: 8085,
        env: { PORT: '8085', ADMIN_PORT: '9121', HANDLER_ID: 'handler-1' },
      },
      {
        name: 'handler-2',
        role: 'handler',
        port: 9122,
        env: { PORT: '9122', ADMIN_PORT: '9123', HANDLER_ID: 'handler-2' },
      },
      // The group fan-out worker: a Kafka consumer; its port answers probes and metrics only.
      {
        name: 'fanout',
        role: 'fanout',
        port: 9124,
        env: { PORT: '9124', HANDLER_ID: 'fanout' },
      },
    ],
    async runInProcess() {
      const { readConfig, runChat, ROLES } = await import('@platform/chat');
      // One handler and the fan-out worker, the admin contract on ADMIN_PORT (9121), which no
      // other system uses.
      return (await runChat(readConfig(), [...ROLES])).lifecycle;
    },
  },
];
