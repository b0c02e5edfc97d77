export { ROLES, runHotelBooking, type Role, type RunningHotelBooking } from './service.ts';
export { parseHotelConfig, readConfig, type Config } from './config.ts';
export {
  DEFAULT_PAYMENT_SECRET,
  paymentSignature,
  SIGNATURE_HEADER,
} from './domain/payment-signature.ts';
