// `node main.ts [api] [hold-releaser]`: the named roles of the hotel booking
// system in this process, all of them when none is named. OpenTelemetry must
// patch express, ioredis and mysql2 before they load, so everything else is
// imported only once tracing runs.
import { chooseRoles, startProcessTracing, stopOnSignals } from '@platform/kit/entry-point';

const tracing = await startProcessTracing('hotel-booking', process.env);
const { readConfig } = await import('./config.ts');
const { ROLES, runHotelBooking } = await import('./service.ts');

const running = await runHotelBooking(readConfig(), chooseRoles(process.argv.slice(2), ROLES));
stopOnSignals(running, tracing);
