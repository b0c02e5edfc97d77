export { handlerAdminContract, type HandlerUnderTest } from './handler-admin.contract.ts';
