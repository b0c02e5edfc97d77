export { ROLES, runUrlShortener, type Role, type RunningShortener } from './service.ts';
export { readConfig, type Config } from './config.ts';
