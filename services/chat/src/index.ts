export { parseChatConfig, readConfig, type Config } from './config.ts';
export { ROLES, runChat, type Role, type RunningChat } from './service.ts';
