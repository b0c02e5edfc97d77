import {
  createHttpApp,
  isEmbedded,
  openService,
  serveApp,
  type Infra,
  type Lifecycle,
  type Logger,
  type RunningServer,
} from '@platform/kit';
import { startAdmin } from './admin.ts';
import { addApiRoutes, ASSETS_PATH } from './api.ts';
import { AssetService } from './assets.ts';
import { Tokens } from './auth.ts';
import { DEFAULT_TOKEN_SECRET, type Config } from './config.ts';
import { Directory } from './directory.ts';
import { TimeIdSource } from './domain/time-id.ts';
import { Drainer } from './drain.ts';
import { startFanout } from './fanout.ts';
import { GroupMessageLog, Groups } from './groups.ts';
import { CLOSE, ConnectionPlane } from './handler.ts';
import { MessageService } from './messages.ts';
import { chatMetrics } from './metrics.ts';
import { PresenceService } from './presence.ts';
import { UserRateLimits } from './rate-limits.ts';
import { Router } from './router.ts';
import { AssetStore } from './store/asset.store.ts';
import { ConversationIndex } from './store/conversation-index.store.ts';
import { GroupStore } from './store/group.store.ts';
import { MessageStore } from './store/message.store.ts';
import { PresenceStore } from './store/presence.store.ts';
import { UserStore } from './store/user.store.ts';

export const ROLES = ['api', 'handler', 'fanout'] as const;
export type Role = (typeof ROLES)[number];

export interface RunningChat {
  server: RunningServer;
  admin: RunningServer | undefined;
  plane: ConnectionPlane | undefined;
  drainer: Drainer | undefined;
  infra: Infra;
  logger: Logger;
  lifecycle: Lifecycle;
  stop(): Promise<void>;
}

/**
 * Starts the chat processes on PORT: `api` is the REST API (users,
 * sessions, groups, messages); `handler` adds the WebSocket endpoint /ws and
 * the admin contract on ADMIN_PORT; `fanout` is the group fan-out worker (a
 * consumer on the group-message topic; PORT answers probes and metrics). All
 * need the stores, since a handler persists what its clients send before
 * routing it.
 */
export async function runChat(config: Config, roles: Role[]): Promise<RunningChat> {
  const { logger, metrics, lifecycle, infra } = openService('chat', roles, config);
  const handlerId = config.HANDLER_ID;
  const domainMetrics = chatMetrics(metrics, handlerId);

  const users = new UserStore(infra.relational);
  await users.migrate();
  const groupStore = new GroupStore(infra.relational);
  await groupStore.migrate();
  const store = new MessageStore(infra.wideColumn);
  await store.define();
  const conversations = new ConversationIndex(infra.wideColumn);
  const presenceStore = new PresenceStore(infra.wideColumn);
  const assetStore = new AssetStore(infra.wideColumn);
  await Promise.all([conversations.define(), presenceStore.define(), assetStore.define()]);

  if (config.TOKEN_SECRET === DEFAULT_TOKEN_SECRET && !isEmbedded(config)) {
    logger.warn('TOKEN_SECRET is the public default: anyone can sign in as anyone');
  }
  if (!config.KAFKA_BROKERS && !isEmbedded(config)) {
    logger.warn('KAFKA_BROKERS is unset: group messages reach only a fanout role in this process');
  }
  const tokens = new Tokens(config.TOKEN_SECRET, config.TOKEN_TTL_SECONDS);
  const directory = new Directory({
    cache: infra.cache,
    handler: handlerId,
    ttlMs: config.DIRECTORY_TTL_MS,
    cacheMs: config.DIRECTORY_CACHE_MS,
  });
  const router = new Router(infra.cache, directory, logger);
  const groups = new Groups({
    store: groupStore,
    maxMembers: config.MAX_GROUP_MEMBERS,
    cacheMs: config.GROUP_CACHE_MS,
  });
  const limits = new UserRateLimits({
    cache: infra.cache,
    windowMs: config.RATE_LIMIT_WINDOW_MS,
    limits: {
      send: config.SEND_RATE_LIMIT,
      group_recipients: config.GROUP_SEND_RATE_LIMIT,
      typing: config.TYPING_RATE_LIMIT,
      group_create: config.GROUP_CREATE_RATE_LIMIT,
      upload: config.UPLOAD_RATE_LIMIT,
    },
    refused: domainMetrics.rateLimited,
    logger,
  });
  const groupLog = new GroupMessageLog(infra.eventLog);
  const assets = new AssetService({
    objects: infra.objectStore,
    store: assetStore,
    maxBytes: config.MAX_ASSET_BYTES,
    types: config.ASSET_TYPES,
    maxUploadsPerUser: config.MAX_UPLOADS_PER_USER,
    maxUploadsInFlight: config.MAX_UPLOADS_IN_FLIGHT,
    inFlightGauge: domainMetrics.assetUploadsInFlight,
  });
  const messages = new MessageService({
    store,
    conversations,
    ids: new TimeIdSource(),
    router,
    groups,
    groupLog,
    groupReceiptsMax: config.GROUP_RECEIPTS_MAX_MEMBERS,
    users,
    assets,
    limits,
    metrics: domainMetrics,
    logger,
  });
  const presence = new PresenceService({
    store: presenceStore,
    conversations,
    directory,
    router,
    cache: infra.cache,
    logger,
    options: {
      directoryTtlMs: config.DIRECTORY_TTL_MS,
      fanOutMs: config.PRESENCE_FANOUT_MS,
      lastSeenWriteMs: config.LAST_SEEN_WRITE_MS,
    },
  });
  const readiness: Record<string, () => Promise<void>> = {
    cache: infra.readiness.cache!,
    relational: infra.readiness.relational!,
    wideColumn: infra.readiness.wideColumn!,
  };
  // Only the REST API stores assets; the fan-out worker has no asset folder.
  if (roles.includes('api')) readiness.objectStore = infra.readiness.objectStore!;
  if (roles.includes('fanout')) readiness.eventLog = infra.readiness.eventLog!;

  const http = createHttpApp({ logger, metrics, readiness, rawBodyPaths: [ASSETS_PATH] });
  if (roles.includes('api')) {
    addApiRoutes(http, {
      users,
      tokens,
      messages,
      groups,
      presence,
      conversations,
      assets,
      cache: infra.cache,
      limits,
      passwordLogN: config.PASSWORD_HASH_LOG_N,
      signInRateLimit: config.SIGN_IN_RATE_LIMIT,
      maxBodyChars: config.MAX_BODY_CHARS,
      maxAttachments: config.MAX_ATTACHMENTS,
    });
  }
  const server = await serveApp(http, { port: config.PORT, host: config.HOST, logger });
  lifecycle.onShutdown('http', () => server.close());

  const running: RunningChat = {
    server,
    admin: undefined,
    plane: undefined,
    drainer: undefined,
    infra,
    logger,
    lifecycle,
    stop: () => lifecycle.shutdown(),
  };
  if (roles.includes('fanout')) {
    const fanout = await startFanout({
      infra,
      groups,
      groupLog,
      store,
      directory,
      router,
      metrics: domainMetrics,
      registry: metrics,
      logger,
      onStopped: (error) => lifecycle.fail('fanout', error),
    });
    lifecycle.onShutdown('fanout', () => fanout.close());
  }
  if (!roles.includes('handler')) return running;

  const plane = new ConnectionPlane({
    server: server.server,
    options: {
      handlerId,
      allowedOrigins: config.ALLOWED_ORIGINS,
      heartbeatMs: config.HEARTBEAT_MS,
      maxFrameBytes: config.MAX_FRAME_BYTES,
      maxBodyChars: config.MAX_BODY_CHARS,
      maxAttachments: config.MAX_ATTACHMENTS,
      sendQueueLimit: config.SEND_QUEUE_LIMIT,
      maxBufferedBytes: config.MAX_BUFFERED_BYTES,
      maxConnections: config.MAX_CONNECTIONS,
      maxConnectionsPerUser: config.MAX_CONNECTIONS_PER_USER,
      directoryTtlMs: config.DIRECTORY_TTL_MS,
      pendingPullMs: config.PENDING_PULL_MS,
    },
    tokens,
    directory,
    router,
    messages,
    presence,
    limits,
    metrics: domainMetrics,
    logger,
  });
  await plane.start();
  const drainer = new Drainer(plane, domainMetrics, logger);
  const admin = await startAdmin({
    port: config.ADMIN_PORT,
    host: config.HOST,
    plane,
    drainer,
    logger,
    metrics,
    readiness,
  });
  Object.assign(running, { plane, drainer, admin });

  // Registered after the HTTP server, so it runs before it: sockets go before the server closes.
  lifecycle.onShutdown('admin', () => admin.close());
  lifecycle.onShutdown('handler', async () => {
    plane.stopAccepting();
    const open = plane.size;
    if (open > 0) {
      // Spread the reconnects over most of the grace period, then close the rest.
      const seconds = (config.DRAIN_GRACE_MS * 0.8) / 1000;
      drainer.start(open, Math.max(1, open / Math.max(seconds, 0.001)), 'shutdown');
      await Promise.race([
        drainer.done(),
        new Promise((resolve) => setTimeout(resolve, config.DRAIN_GRACE_MS).unref()),
      ]);
      drainer.cancel();
    }
    for (const connection of plane.connections()) connection.close(CLOSE.restart, 'shutdown');
    await plane.close();
  });
  return running;
}
