import {
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  makeInformer,
  setHeaderOptions,
  type Informer,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type ObjectCache,
  type V1Pod,
} from '@kubernetes/client-node';
import type { Logger } from '@platform/kit';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HandlerAdmin } from './handler-admin.ts';
import { matchesSelector, type LabelSelector } from './label-selector.ts';
import { LeaderLease } from './leader-lease.ts';
import type { RebalancerMetrics } from './metrics.ts';
import { plan, type BalanceSpec, type HandlerLoad, type Plan } from './plan.ts';
import { WorkQueue } from './work-queue.ts';

export const GROUP = 'chat.platform.dev';
export const VERSION = 'v1alpha1';
export const PLURAL = 'handlerpools';
export const KIND = 'HandlerPool';
/** The admin port when neither the pool nor a container port named "admin" gives one. */
export const DEFAULT_ADMIN_PORT = 9121;
const COMPONENT = 'handler-rebalancer';

export interface HandlerPoolSpec {
  selector: LabelSelector;
  adminPort?: number;
  allowedImbalance?: { fraction?: number; minConnections?: number };
  drainRate?: number;
  cooldownSeconds?: number;
}

export interface Condition {
  type: 'Balanced' | 'Rebalancing' | 'Degraded';
  status: 'True' | 'False' | 'Unknown';
  observedGeneration: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export interface HandlerStatus {
  name: string;
  ready: boolean;
  terminating: boolean;
  reachable: boolean;
  connections?: number;
  draining?: number;
}

export interface HandlerPoolStatus {
  observedGeneration?: number;
  servingHandlers?: number;
  meanConnections?: number;
  limitConnections?: number;
  lastActionTime?: string;
  handlers?: HandlerStatus[];
  conditions?: Condition[];
}

export interface HandlerPool extends KubernetesObject {
  spec: HandlerPoolSpec;
  status?: HandlerPoolStatus;
}

/** Where a pod's admin API answers (base URL), or undefined when it has no address yet. */
export type ResolveAdminUrl = (pod: V1Pod, port: number) => string | undefined;

/** In a cluster: the pod's IP and the admin port. */
export const podIpAdminUrl: ResolveAdminUrl = (pod, port) => {
  const ip = pod.status?.podIP;
  if (!ip) return undefined;
  return ip.includes(':') ? `http://[${ip}]:${port}` : `http://${ip}:${port}`;
};

export interface HandlerRebalancerOptions {
  kubeConfig: KubeConfig;
  /** Namespace watched; undefined watches every namespace. */
  namespace: string | undefined;
  lease: {
    namespace: string;
    name: string;
    identity: string;
    durationSeconds: number;
    renewSeconds: number;
  };
  /** Seconds between two reads of a pool's load when nothing else happens. */
  pollSeconds: number;
  admin: HandlerAdmin;
  resolveAdminUrl?: ResolveAdminUrl;
  logger: Logger;
  metrics: RebalancerMetrics;
  now?: () => Date;
}

/**
 * The loop around `plan`: watches HandlerPools and pods, and, while it holds
 * the Lease, reads every handler's load, asks overloaded and terminating
 * handlers to drain, and writes the pool's status and events.
 */
export class HandlerRebalancer {
  readonly #options: HandlerRebalancerOptions;
  readonly #log: Logger;
  readonly #now: () => Date;
  readonly #resolve: ResolveAdminUrl;
  readonly #core: CoreV1Api;
  readonly #custom: CustomObjectsApi;
  readonly #pools: Informer<HandlerPool> & ObjectCache<HandlerPool>;
  readonly #pods: Informer<V1Pod> & ObjectCache<V1Pod>;
  readonly #queue: WorkQueue;
  readonly #lease: LeaderLease;
  // Survive an informer that has not yet seen our own status write.
  readonly #lastAction = new Map<string, number>();
  readonly #drainedPods = new Set<string>();
  readonly #reportedHandlers = new Map<string, Set<string>>();
  readonly #balanced = new Map<string, Condition['status']>();
  readonly #filling = new Set<Informer<KubernetesObject>>();
  #synced = false;
  #stopped = false;

  constructor(options: HandlerRebalancerOptions) {
    this.#options = options;
    this.#log = options.logger;
    this.#now = options.now ?? (() => new Date());
    this.#resolve = options.resolveAdminUrl ?? podIpAdminUrl;
    const { kubeConfig, namespace } = options;
    this.#core = kubeConfig.makeApiClient(CoreV1Api);
    this.#custom = kubeConfig.makeApiClient(CustomObjectsApi);

    const poolPath = namespace
      ? `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`
      : `/apis/${GROUP}/${VERSION}/${PLURAL}`;
    this.#pools = makeInformer(kubeConfig, poolPath, async () => {
      const group = { group: GROUP, version: VERSION, plural: PLURAL };
      const list = namespace
        ? await this.#custom.listNamespacedCustomObject({ ...group, namespace })
        : await this.#custom.listClusterCustomObject(group);
      return list as KubernetesListObject<HandlerPool>;
    });
    const podPath = namespace ? `/api/v1/namespaces/${namespace}/pods` : '/api/v1/pods';
    this.#pods = makeInformer(kubeConfig, podPath, () =>
      namespace
        ? this.#core.listNamespacedPod({ namespace })
        : this.#core.listPodForAllNamespaces(),
    );

    this.#queue = new WorkQueue({
      handle: (key) => this.reconcile(key),
      onError: (key, error, retryInMs) =>
        this.#log.warn({ pool: key, err: error, retryInMs }, 'reconcile failed'),
    });
    this.#lease = new LeaderLease({
      kubeConfig,
      namespace: options.lease.namespace,
      name: options.lease.name,
      identity: options.lease.identity,
      leaseDurationSeconds: options.lease.durationSeconds,
      renewSeconds: options.lease.renewSeconds,
      onStartedLeading: () => {
        this.#log.info({ identity: options.lease.identity }, 'started leading');
        options.metrics.leader.set(1);
        for (const pool of this.#pools.list()) this.#queue.add(keyOf(pool));
      },
      onStoppedLeading: () => {
        this.#log.info({ identity: options.lease.identity }, 'stopped leading');
        options.metrics.leader.set(0);
      },
      onError: (error) => this.#log.warn({ err: error }, 'lease renewal failed'),
    });
    this.#watch();
  }

  /** Ready once both caches hold a full list. */
  get ready(): boolean {
    return this.#synced;
  }

  get isLeader(): boolean {
    return this.#lease.isLeader;
  }

  /** Fills the caches, then competes for the Lease. */
  async start(): Promise<void> {
    await Promise.all([this.#fill(this.#pools), this.#fill(this.#pods)]);
    if (this.#stopped) return;
    this.#synced = true;
    this.#lease.start();
  }

  /** Starts an informer until its list succeeds, backing off between attempts. */
  async #fill(informer: Informer<KubernetesObject>): Promise<void> {
    if (this.#filling.has(informer)) return;
    this.#filling.add(informer);
    try {
      for (let delay = 500; !this.#stopped; delay = Math.min(delay * 2, 30_000)) {
        let failed = false;
        const onError = () => (failed = true);
        informer.on('error', onError);
        await (informer as unknown as { start(): Promise<void> }).start();
        informer.off('error', onError);
        if (!failed) return;
        await sleep(delay);
      }
    } finally {
      this.#filling.delete(informer);
    }
  }

  /** Stops acting; `releaseLease` hands the Lease over at once instead of letting it expire. */
  async stop({ releaseLease }: { releaseLease: boolean }): Promise<void> {
    this.#stopped = true;
    this.#queue.stop();
    await this.#lease.stop({ release: releaseLease });
    await Promise.all([this.#pools.stop(), this.#pods.stop()]);
  }

  #watch(): void {
    const enqueue = (pool: HandlerPool) => this.#queue.add(keyOf(pool));
    this.#pools.on('add', enqueue);
    // Our own status writes come back as updates: only a new generation (spec) is news.
    const generations = new Map<string, number | undefined>();
    this.#pools.on('update', (pool) => {
      const key = keyOf(pool);
      if (generations.get(key) !== pool.metadata?.generation) enqueue(pool);
      generations.set(key, pool.metadata?.generation);
    });
    this.#pools.on('add', (pool) => generations.set(keyOf(pool), pool.metadata?.generation));
    this.#pools.on('delete', (pool) => {
      const key = keyOf(pool);
      this.#queue.forget(key);
      generations.delete(key);
      this.#forgetMetrics(key);
    });

    const poolsOfPod = (pod: V1Pod) => {
      for (const pool of this.#pools.list(pod.metadata?.namespace)) {
        if (matchesSelector(pod.metadata?.labels, pool.spec.selector)) enqueue(pool);
      }
    };
    this.#pods.on('add', poolsOfPod);
    this.#pods.on('update', poolsOfPod);
    this.#pods.on('delete', poolsOfPod);

    // A failed list or watch stops an informer: start it again (its cache stays meanwhile).
    for (const informer of [this.#pools, this.#pods] as Informer<KubernetesObject>[]) {
      informer.on('error', (error) => {
        if (this.#stopped) return;
        this.#log.warn({ err: error }, 'watch failed, restarting');
        if (!this.#filling.has(informer)) void this.#fill(informer);
      });
    }
  }

  /**
   * Level-triggered: reads everything about one pool and acts on it. Returns seconds to requeue.
   */
  async reconcile(key: string): Promise<number | undefined> {
    if (!this.#lease.isLeader || this.#stopped) return undefined;
    const [namespace, name] = key.split('/') as [string, string];
    const pool = this.#pools.get(name, namespace);
    if (!pool) return undefined;
    const spec = balanceSpec(pool.spec);
    const now = this.#now();

    // Observe: every selected pod, and the load of those that serve or are terminating.
    const pods = this.#pods
      .list(namespace)
      .filter((pod) => matchesSelector(pod.metadata?.labels, pool.spec.selector));
    const observed = await Promise.all(pods.map((pod) => this.#observe(pool, pod)));
    const loads: HandlerLoad[] = observed.flatMap((o) =>
      o.reachable && o.connections !== undefined
        ? [{ ...o, connections: o.connections, draining: o.draining ?? 0 }]
        : [],
    );

    // Decide.
    const lastAction = Math.max(
      Date.parse(pool.status?.lastActionTime ?? '') || 0,
      this.#lastAction.get(key) ?? 0,
    );
    const decided = plan({
      handlers: loads,
      spec,
      secondsSinceLastAction: lastAction > 0 ? (now.getTime() - lastAction) / 1000 : undefined,
    });

    // Act.
    const { sent, failed } = await this.#sendDrains(key, decided, observed);
    let lastActionTime = lastAction > 0 ? new Date(lastAction).toISOString() : undefined;
    if (sent.length > 0) {
      this.#lastAction.set(key, now.getTime());
      lastActionTime = now.toISOString();
      this.#log.info({ pool: key, drains: sent }, 'asked handlers to drain');
    }

    // Report: the metrics first, so whoever sees the new status finds them up to date too.
    this.#recordMetrics(key, observed);
    const conditions = this.#conditions(pool, decided, observed, sent.length, failed.length, now);
    await this.#writeStatus(pool, {
      observedGeneration: pool.metadata?.generation ?? 0,
      servingHandlers: loads.filter((h) => h.ready && !h.terminating).length,
      meanConnections: round(decided.mean),
      limitConnections: round(decided.limit),
      ...(lastActionTime ? { lastActionTime } : {}),
      handlers: observed.map(({ url: _url, ...handler }) => handler),
      conditions,
    });
    await this.#emitEvents(pool, observed, sent, conditions);

    if (failed.length > 0) throw new Error(`${failed.length} drain request(s) failed`);
    const poll = this.#options.pollSeconds;
    return decided.cooldownRemainingSeconds > 0
      ? Math.min(poll, decided.cooldownRemainingSeconds + 0.05)
      : poll;
  }

  /** POSTs the plan's drains; a refusal is logged and counted, never thrown here. */
  async #sendDrains(
    key: string,
    decided: Plan,
    observed: (HandlerStatus & { url?: string })[],
  ): Promise<{ sent: Plan['drains']; failed: Plan['drains'] }> {
    const urls = new Map(observed.map((o) => [o.name, o.url]));
    const results = await Promise.allSettled(
      decided.drains.map((drain) =>
        this.#options.admin.drain(urls.get(drain.handler)!, {
          connections: drain.connections,
          perSecond: drain.perSecond,
        }),
      ),
    );

    const sent: Plan['drains'] = [];
    const failed: Plan['drains'] = [];
    for (const [i, result] of results.entries()) {
      const drain = decided.drains[i]!;
      if (result.status === 'fulfilled') {
        sent.push(drain);
        this.#options.metrics.actions.inc({ pool: key, reason: drain.reason });
      } else {
        failed.push(drain);
        this.#log.warn({ pool: key, handler: drain.handler, err: result.reason }, 'drain refused');
      }
    }
    return { sent, failed };
  }

  async #observe(pool: HandlerPool, pod: V1Pod): Promise<HandlerStatus & { url?: string }> {
    const name = pod.metadata?.name ?? '';
    const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    const terminating = Boolean(pod.metadata?.deletionTimestamp);
    const base = { name, ready: Boolean(ready), terminating, reachable: false };
    if (!ready && !terminating) return base;

    const url = this.#resolve(pod, adminPortOf(pool, pod));
    if (!url) return base;
    try {
      const load = await this.#options.admin.load(url);
      return {
        ...base,
        reachable: true,
        connections: load.connections,
        draining: load.draining,
        url,
      };
    } catch (error) {
      this.#log.warn({ pool: keyOf(pool), handler: name, err: error }, 'handler load unreadable');
      return { ...base, url };
    }
  }

  #conditions(
    pool: HandlerPool,
    decided: Plan,
    observed: HandlerStatus[],
    sent: number,
    failed: number,
    now: Date,
  ): Condition[] {
    const generation = pool.metadata?.generation ?? 0;
    const previous = pool.status?.conditions ?? [];
    const make = (
      type: Condition['type'],
      status: boolean,
      reason: string,
      message: string,
    ): Condition => {
      const value = status ? 'True' : 'False';
      const before = previous.find((c) => c.type === type);
      const lastTransitionTime =
        before && before.status === value ? before.lastTransitionTime : now.toISOString();
      return {
        type,
        status: value,
        observedGeneration: generation,
        lastTransitionTime,
        reason,
        message,
      };
    };

    const limit = round(decided.limit);
    const mean = round(decided.mean);
    const heaviest = observed
      .filter((h) => h.ready && !h.terminating && h.reachable)
      .reduce<HandlerStatus | undefined>(
        (a, b) => ((a?.connections ?? -1) >= (b.connections ?? 0) ? a : b),
        undefined,
      );
    const balanced =
      decided.state === 'NoServingHandlers'
        ? make('Balanced', false, 'NoServingHandlers', 'no ready, non-terminating handler')
        : decided.state === 'Balanced'
          ? make(
              'Balanced',
              true,
              'WithinLimit',
              `every handler holds at most ${limit} connections (mean ${mean})`,
            )
          : make(
              'Balanced',
              false,
              'OverLimit',
              `${heaviest?.name ?? 'a handler'} holds ${heaviest?.connections ?? '?'} connections, limit ${limit} (mean ${mean})`,
            );

    const inProgress = observed.filter((h) => (h.draining ?? 0) > 0).length;
    const rebalancing =
      sent > 0
        ? make('Rebalancing', true, 'DrainsRequested', `asked ${sent} handler(s) to drain`)
        : decided.state === 'CoolingDown'
          ? make(
              'Rebalancing',
              true,
              'CoolingDown',
              `over the limit; next action in ${Math.ceil(decided.cooldownRemainingSeconds)} s`,
            )
          : inProgress > 0
            ? make(
                'Rebalancing',
                true,
                'DrainInProgress',
                `${inProgress} handler(s) still draining`,
              )
            : make('Rebalancing', false, 'Idle', 'no drain in progress');

    const unreachable = observed.filter((h) => (h.ready || h.terminating) && !h.reachable);
    const degraded =
      failed > 0
        ? make('Degraded', true, 'DrainFailed', `${failed} drain request(s) failed`)
        : unreachable.length > 0
          ? make(
              'Degraded',
              true,
              'HandlerUnreachable',
              `load unreadable from ${unreachable.map((h) => h.name).join(', ')}`,
            )
          : decided.state === 'NoServingHandlers'
            ? make('Degraded', true, 'NoServingHandlers', 'no ready, non-terminating handler')
            : make('Degraded', false, 'AllHandlersReporting', 'every handler reports its load');

    return [balanced, rebalancing, degraded];
  }

  async #writeStatus(pool: HandlerPool, status: HandlerPoolStatus): Promise<void> {
    const { name, namespace } = pool.metadata as { name: string; namespace: string };
    await this.#custom.patchNamespacedCustomObjectStatus(
      { group: GROUP, version: VERSION, plural: PLURAL, namespace, name, body: { status } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }

  async #emitEvents(
    pool: HandlerPool,
    observed: HandlerStatus[],
    sent: Plan['drains'],
    conditions: Condition[],
  ): Promise<void> {
    if (sent.length > 0) {
      const what = sent.map((d) => `${d.handler} sheds ${d.connections} (${d.reason})`).join(', ');
      await this.#event(pool, 'Rebalancing', `${what} at ${sent[0]!.perSecond}/s`);
    }
    for (const h of observed) {
      const uid = `${keyOf(pool)}/${h.name}`;
      if (h.terminating && h.reachable && h.connections === 0 && !this.#drainedPods.has(uid)) {
        this.#drainedPods.add(uid);
        await this.#event(pool, 'Drained', `terminating handler ${h.name} holds no connections`);
      }
    }
    const key = keyOf(pool);
    const before =
      this.#balanced.get(key) ??
      pool.status?.conditions?.find((c) => c.type === 'Balanced')?.status;
    const now = conditions.find((c) => c.type === 'Balanced')!;
    this.#balanced.set(key, now.status);
    if (now.status === 'True' && before !== 'True') {
      await this.#event(pool, 'Balanced', now.message);
    }
  }

  async #event(pool: HandlerPool, reason: string, message: string): Promise<void> {
    const { name, namespace, uid } = pool.metadata as {
      name: string;
      namespace: string;
      uid: string;
    };
    const now = this.#now();
    try {
      await this.#core.createNamespacedEvent({
        namespace,
        body: {
          metadata: { generateName: `${name}.`, namespace },
          involvedObject: { apiVersion: `${GROUP}/${VERSION}`, kind: KIND, name, namespace, uid },
          reason,
          message,
          type: 'Normal',
          source: { component: COMPONENT },
          reportingComponent: `${GROUP}/${COMPONENT}`,
          reportingInstance: this.#options.lease.identity,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
    } catch (error) {
      // An event is a courtesy: losing one must not fail the reconcile.
      this.#log.warn({ pool: `${namespace}/${name}`, reason, err: error }, 'event not recorded');
    }
  }

  #recordMetrics(key: string, observed: HandlerStatus[]): void {
    const { handlers, connections } = this.#options.metrics;
    const counts = { serving: 0, terminating: 0, unready: 0, unreachable: 0 };
    for (const h of observed) {
      if (h.terminating) counts.terminating++;
      else if (!h.ready) counts.unready++;
      else if (!h.reachable) counts.unreachable++;
      else counts.serving++;
    }
    for (const [state, count] of Object.entries(counts)) handlers.set({ pool: key, state }, count);

    const previous = this.#reportedHandlers.get(key) ?? new Set<string>();
    const current = new Set<string>();
    for (const h of observed) {
      if (h.connections === undefined) continue;
      connections.set({ pool: key, handler: h.name }, h.connections);
      current.add(h.name);
    }
    for (const name of previous)
      if (!current.has(name)) connections.remove({ pool: key, handler: name });
    this.#reportedHandlers.set(key, current);
  }

  #forgetMetrics(key: string): void {
    for (const state of ['serving', 'terminating', 'unready', 'unreachable']) {
      this.#options.metrics.handlers.remove({ pool: key, state });
    }
    for (const name of this.#reportedHandlers.get(key) ?? []) {
      this.#options.metrics.connections.remove({ pool: key, handler: name });
    }
    this.#reportedHandlers.delete(key);
    this.#lastAction.delete(key);
    this.#balanced.delete(key);
  }
}

/** The spec with the CRD's defaults, for pools the API server has not defaulted (older objects). */
export function balanceSpec(spec: HandlerPoolSpec): BalanceSpec {
  return {
    allowedImbalance: {
      fraction: spec.allowedImbalance?.fraction ?? 0.1,
      minConnections: spec.allowedImbalance?.minConnections ?? 20,
    },
    drainRate: spec.drainRate ?? 50,
    cooldownSeconds: spec.cooldownSeconds ?? 30,
  };
}

/** The pool's adminPort, else the pod's container port named "admin", else 9121. */
export function adminPortOf(pool: HandlerPool, pod: V1Pod): number {
  if (pool.spec.adminPort) return pool.spec.adminPort;
  const named = pod.spec?.containers
    .flatMap((c) => c.ports ?? [])
    .find((p) => p.name === 'admin')?.containerPort;
  return named ?? DEFAULT_ADMIN_PORT;
}

function keyOf(object: KubernetesObject): string {
  return `${object.metadata?.namespace}/${object.metadata?.name}`;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
