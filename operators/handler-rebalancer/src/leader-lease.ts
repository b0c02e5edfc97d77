import {
  CoordinationV1Api,
  V1MicroTime,
  type KubeConfig,
  type V1Lease,
} from '@kubernetes/client-node';

/**
 * Leader election on a coordination.k8s.io Lease, as client-go's leaderelection
 * does it: the holder renews renewTime every `renewSeconds`; anyone may take a
 * lease whose renewTime is older than leaseDurationSeconds. Writes carry the
 * resourceVersion read, so two candidates racing for one lease cannot both win.
 */
export interface LeaderLeaseOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  name: string;
  /** This candidate's identity (the pod name). */
  identity: string;
  leaseDurationSeconds: number;
  renewSeconds: number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  onError?: (error: unknown) => void;
  now?: () => Date;
}

export class LeaderLease {
  readonly #options: LeaderLeaseOptions;
  readonly #api: CoordinationV1Api;
  readonly #now: () => Date;
  #leading = false;
  #lastRenewed = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #tick: Promise<void> = Promise.resolve();

  constructor(options: LeaderLeaseOptions) {
    this.#options = options;
    this.#api = options.kubeConfig.makeApiClient(CoordinationV1Api);
    this.#now = options.now ?? (() => new Date());
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  start(): void {
    const loop = () => {
      if (this.#stopped) return;
      this.#tick = this.#try().finally(() => {
        if (this.#stopped) return;
        this.#timer = setTimeout(loop, this.#options.renewSeconds * 1000);
      });
    };
    loop();
  }

  /** Stops renewing; with `release`, hands the lease back so another candidate need not wait. */
  async stop({ release }: { release: boolean }): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#tick;
    if (release && this.#leading) {
      await this.#write((lease) => {
        lease.spec!.holderIdentity = undefined;
        lease.spec!.leaseDurationSeconds = 1;
        lease.spec!.renewTime = new V1MicroTime(0);
      }).catch((error) => this.#options.onError?.(error));
    }
    this.#lose();
  }

  async #try(): Promise<void> {
    try {
      const won = await this.#acquireOrRenew();
      if (won) {
        this.#lastRenewed = Date.now();
        if (!this.#leading) {
          this.#leading = true;
          this.#options.onStartedLeading();
        }
      } else {
        this.#lose();
      }
    } catch (error) {
      this.#options.onError?.(error);
      // A leader that cannot renew steps down before anyone else may take the lease.
      const stale =
        Date.now() - this.#lastRenewed > this.#options.leaseDurationSeconds * 1000 * 0.8;
      if (this.#leading && stale) this.#lose();
    }
  }

  #lose(): void {
    if (!this.#leading) return;
    this.#leading = false;
    this.#options.onStoppedLeading();
  }

  async #acquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity, leaseDurationSeconds } = this.#options;
    const now = this.#now();
    const lease = await this.#read();

    if (!lease) {
      try {
        await this.#api.createNamespacedLease({
          namespace,
          body: {
            metadata: { name, namespace },
            spec: {
              holderIdentity: identity,
              leaseDurationSeconds,
              acquireTime: new V1MicroTime(now.getTime()),
              renewTime: new V1MicroTime(now.getTime()),
              leaseTransitions: 0,
            },
          },
        });
        return true;
      } catch (error) {
        if (statusOf(error) === 409) return false;
        throw error;
      }
    }

    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity;
    // The client returns MicroTime fields as the server's strings, not as Dates.
    const renewed = spec.renewTime ? new Date(String(spec.renewTime as unknown)).getTime() : 0;
    const duration = (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
    const expired = renewed + duration < now.getTime();
    if (holder && holder !== identity && !expired) return false;

    try {
      await this.#write((next) => {
        if (next.spec!.holderIdentity !== identity) {
          next.spec!.leaseTransitions = (next.spec!.leaseTransitions ?? 0) + 1;
          next.spec!.acquireTime = new V1MicroTime(now.getTime());
        } else if (next.spec!.acquireTime) {
          next.spec!.acquireTime = new V1MicroTime(String(next.spec!.acquireTime as unknown));
        }
        next.spec!.holderIdentity = identity;
        next.spec!.leaseDurationSeconds = leaseDurationSeconds;
        next.spec!.renewTime = new V1MicroTime(now.getTime());
      }, lease);
      return true;
    } catch (error) {
      if (statusOf(error) === 409) return false;
      throw error;
    }
  }

  async #read(): Promise<V1Lease | undefined> {
    const { namespace, name } = this.#options;
    try {
      return await this.#api.readNamespacedLease({ namespace, name });
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  /** Replaces the lease as `change` leaves it; fails with 409 if someone wrote it since `read`. */
  async #write(change: (lease: V1Lease) => void, read?: V1Lease): Promise<void> {
    const { namespace, name } = this.#options;
    const lease = read ?? (await this.#read());
    if (!lease) return;
    const next: V1Lease = { ...lease, spec: { ...lease.spec } };
    change(next);
    await this.#api.replaceNamespacedLease({ namespace, name, body: next });
  }
}

/** HTTP status of a client-node ApiException; 0 for anything else. */
export function statusOf(error: unknown): number {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : 0;
}
