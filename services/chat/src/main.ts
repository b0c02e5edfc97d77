// `node main.ts [api] [handler]` (or `api,handler`): the named roles of the
// chat system in this process, both when none is named. OpenTelemetry must
// patch express, ioredis, mysql2 and cassandra-driver before they load, so everything else is
// imported only once tracing runs.
import { chooseRoles, startProcessTracing, stopOnSignals } from '@platform/kit/entry-point';

const tracing = await startProcessTracing('chat', process.env);
const { readConfig } = await import('./config.ts');
const { ROLES, runChat } = await import('./service.ts');

const running = await runChat(readConfig(), chooseRoles(process.argv.slice(2), ROLES));
stopOnSignals(running, tracing);
