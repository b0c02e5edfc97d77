export { ConfigError, env, loadConfig, parseConfig } from './config/config.ts';
export {
  infraSchema,
  hasEveryServer,
  isEmbedded,
  telemetrySchema,
  type InfraConfig,
  type TelemetryConfig,
} from './config/infra-config.ts';
export { decodeEvent, encodeEvent, envelope, type Envelope } from './events.ts';
export {
  createHttpApp,
  type HttpApp,
  type HttpAppOptions,
  type ReadinessCheck,
} from './http/app.ts';
export {
  AppError,
  httpError,
  httpErrors,
  invalidField,
  type ErrorCatalogueEntry,
  type HttpErrorCode,
} from './http/errors.ts';
export { idempotency, type IdempotencyOptions } from './http/idempotency.ts';
export { CacheRateLimitStore, clientRateLimit, countInWindow } from './http/rate-limit.ts';
export {
  serve,
  serveApp,
  type FastPath,
  type RunningServer,
  type ServeOptions,
} from './http/server.ts';
export { parseInput } from './http/validate.ts';
export { connectInfra, objectStoreDirOf, type Infra } from './infra.ts';
export { Lifecycle } from './lifecycle.ts';
export { openService, type ServiceBase } from './service.ts';
export type { Cache } from './ports/cache/cache.ts';
export { MemoryCache } from './ports/cache/memory-cache.ts';
export { RedisCache } from './ports/cache/redis-cache.ts';
export type {
  ConsumedRecord,
  EventBatch,
  EventLog,
  EventRecord,
  PublishOptions,
  SubscribeOptions,
  Subscription,
} from './ports/event-log/event-log.ts';
export { KafkaEventLog } from './ports/event-log/kafka-event-log.ts';
export { MemoryEventLog } from './ports/event-log/memory-event-log.ts';
export { LocalFolderObjectStore } from './ports/object-store/local-folder-object-store.ts';
export { MemoryObjectStore } from './ports/object-store/memory-object-store.ts';
export {
  checkObjectKey,
  InvalidObjectKey,
  type ObjectBody,
  type ObjectStore,
  type PutOptions,
  type StoredObject,
} from './ports/object-store/object-store.ts';
export { isDeadlock, MysqlRelational } from './ports/relational/mysql-relational.ts';
export {
  ConstraintViolation,
  type ExecResult,
  type Migration,
  type Queryable,
  type Relational,
  type Row,
  type SqlValue,
} from './ports/relational/relational.ts';
export { SqliteRelational } from './ports/relational/sqlite-relational.ts';
export { searchErrors, type SearchErrorCode } from './ports/search/errors.ts';
export { MiniSearchEngine } from './ports/search/minisearch-engine.ts';
export { OpenSearchEngine, type OpenSearchOptions } from './ports/search/opensearch-engine.ts';
export type {
  DocumentDeletion,
  FieldSpec,
  FieldType,
  FieldValue,
  Filter,
  GeoPoint,
  IndexChange,
  IndexSpec,
  SearchDocument,
  SearchEngine,
  SearchHit,
  SearchIndex,
  SearchPage,
  SearchQuery,
  SortKey,
  StoredVersion,
  WriteOutcome,
} from './ports/search/search.ts';
export { CassandraWideColumn } from './ports/wide-column/cassandra-wide-column.ts';
export { SqliteWideColumn } from './ports/wide-column/sqlite-wide-column.ts';
export type {
  CellValue,
  ColumnType,
  TableSpec,
  WideColumn,
  WideRow,
} from './ports/wide-column/wide-column.ts';
export {
  startSearchFeed,
  type FeedOutcome,
  type Projection,
  type SearchFeed,
  type SearchFeedOptions,
} from './search-feed.ts';
export { createLogger, type Logger } from './telemetry/logger.ts';
export {
  Counter,
  Gauge,
  Histogram,
  LATENCY_BUCKETS,
  consumerLagGauge,
  counterOf,
  createMetrics,
  type Metrics,
} from './telemetry/metrics.ts';
export { FastHistogram, type HistogramChild } from './telemetry/fast-histogram.ts';
export { startTracing } from './telemetry/tracing.ts';
