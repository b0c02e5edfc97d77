import { hostname } from 'node:os';
import { z } from 'zod';
import { env, loadConfig, telemetrySchema } from '@platform/kit';

/** Every variable the handler rebalancer reads, validated once at start. */
export const configSchema = z
  .object({
    ...telemetrySchema.shape,
    // /metrics, /healthz and /readyz.
    PORT: env.port(9130),
    // Namespace whose HandlerPools and pods are watched; empty watches every namespace.
    WATCH_NAMESPACE: z.string().optional(),
    // This instance's identity in the Lease (the pod name in a cluster).
    POD_NAME: z.string().min(1).default(hostname()),
    // Namespace of the Lease; defaults to WATCH_NAMESPACE, else "default".
    LEASE_NAMESPACE: z.string().optional(),
    LEASE_NAME: z.string().min(1).default('handler-rebalancer'),
    LEASE_DURATION_SECONDS: env.positiveInt(15),
    LEASE_RENEW_SECONDS: env.positiveInt(5),
    // How often each pool's load is read when nothing else happens.
    POLL_SECONDS: env.number(5).pipe(z.number().positive().max(3600)),
    // Bound on each call to a handler's admin API.
    ADMIN_TIMEOUT_MS: env.positiveInt(2000),
  })
  .refine((c) => c.LEASE_RENEW_SECONDS < c.LEASE_DURATION_SECONDS, {
    path: ['LEASE_RENEW_SECONDS'],
    message: 'must be shorter than LEASE_DURATION_SECONDS',
  });

export type Config = z.infer<typeof configSchema>;

export function readConfig(): Readonly<Config> {
  return loadConfig(configSchema);
}
