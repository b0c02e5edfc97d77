export { ConfigError, env, loadConfig, parseConfig } from './config.ts';
export { hasEveryServer, infraSchema, isEmbedded, telemetrySchema } from './infra-config.ts';
