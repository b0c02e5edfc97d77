export {
  DEFAULT_ADMIN_PORT,
  GROUP,
  HandlerRebalancer,
  KIND,
  PLURAL,
  VERSION,
  podIpAdminUrl,
  type HandlerPool,
  type HandlerPoolSpec,
  type HandlerPoolStatus,
  type ResolveAdminUrl,
} from './controller.ts';
export {
  HandlerAdminError,
  httpHandlerAdmin,
  loadSchema,
  type DrainRequest,
  type HandlerAdmin,
  type HandlerLoadReport,
} from './handler-admin.ts';
export { plan, type BalanceSpec, type Drain, type HandlerLoad, type Plan } from './plan.ts';
