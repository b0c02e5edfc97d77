export { ROLES, runHotelBooking, type Role, type RunningHotelBooking } from './service.ts';
export { parseHotelConfig, readConfig, type Config } from './config.ts';
