export { ConfigError, env, loadConfig, parseConfig } from './config.ts';
export { infraSchema, isEmbedded, telemetrySchema } from './infra-config.ts';
