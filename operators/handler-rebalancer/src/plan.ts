/**
 * The pure half of the rebalancer: from the load each handler reports and the
 * pool's spec, which handlers shed how many connections, at what rate. No I/O,
 * no clock: the caller passes the time since the last action.
 */

/** One handler pod as the controller sees it. */
export interface HandlerLoad {
  name: string;
  /** The pod's Ready condition. */
  ready: boolean;
  /** The pod has a deletionTimestamp: it sheds everything. */
  terminating: boolean;
  /** Open client connections, from GET /admin/load. */
  connections: number;
  /** Connections the handler still has to shed for the drain in progress (0: none). */
  draining: number;
}

/** The parts of a HandlerPool's spec the plan reads. */
export interface BalanceSpec {
  allowedImbalance: {
    /** How far above the mean a handler may go, as a fraction of the mean. */
    fraction: number;
    /** ... but never less than this many connections, so small pools do not flap. */
    minConnections: number;
  };
  /** Connections per second each draining handler closes. */
  drainRate: number;
  /** Seconds between two rebalancing actions. */
  cooldownSeconds: number;
}

export interface PlanInput {
  handlers: HandlerLoad[];
  spec: BalanceSpec;
  /** Seconds since the last action the operator took; undefined when it never acted. */
  secondsSinceLastAction: number | undefined;
}

/** One POST /admin/drain to send. */
export interface Drain {
  handler: string;
  connections: number;
  perSecond: number;
  reason: 'Overloaded' | 'Terminating';
}

export type PoolState =
  /** Every serving handler is within the limit and no terminating pod holds connections. */
  | 'Balanced'
  /** Drains are issued now or still running. */
  | 'Rebalancing'
  /** Over the limit, but the cool-down since the last action has not passed. */
  | 'CoolingDown'
  /** No ready, non-terminating handler: nowhere for connections to go. */
  | 'NoServingHandlers';

export interface Plan {
  state: PoolState;
  drains: Drain[];
  /** Mean connections per serving handler once terminating pods have emptied. */
  mean: number;
  /** Most connections a serving handler may hold: mean + allowance (at least ceil(mean)). */
  limit: number;
  /** Seconds until the cool-down ends; 0 when it does not hold anything back. */
  cooldownRemainingSeconds: number;
}

/** Decides which handlers shed how many connections so the spread ends within the limit. */
export function plan({ handlers, spec, secondsSinceLastAction }: PlanInput): Plan {
  const serving = handlers.filter((h) => h.ready && !h.terminating);
  const terminating = handlers.filter((h) => h.terminating);

  // Connections of terminating pods move onto the serving ones: count them in the mean.
  const total = [...serving, ...terminating].reduce((sum, h) => sum + h.connections, 0);
  const mean = serving.length > 0 ? total / serving.length : 0;
  // Whole connections cannot all sit on a fractional mean: ceil(mean) is as level as it gets.
  const limit = Math.max(mean + allowance(mean, spec), Math.ceil(mean));

  // Evacuation is not rebalancing: a terminating pod sheds everything, cool-down or not.
  const drains: Drain[] = terminating
    .filter((h) => h.connections > 0 && h.draining < h.connections)
    .map((h) => ({
      handler: h.name,
      connections: h.connections,
      perSecond: spec.drainRate,
      reason: 'Terminating',
    }));

  // A handler is over the limit by what it will still hold once its drain in progress ends.
  const overloaded = serving.filter((h) => h.connections - h.draining > limit);
  const cooldownRemainingSeconds =
    secondsSinceLastAction === undefined
      ? 0
      : Math.max(0, spec.cooldownSeconds - secondsSinceLastAction);
  const coolingDown = overloaded.length > 0 && cooldownRemainingSeconds > 0;

  // Shed down to the mean, never past it: the excess is all a handler gives up.
  if (!coolingDown) {
    for (const h of overloaded) {
      const excess = Math.floor(h.connections - mean);
      if (excess > 0) {
        drains.push({
          handler: h.name,
          connections: excess,
          perSecond: spec.drainRate,
          reason: 'Overloaded',
        });
      }
    }
  }

  return {
    state: stateOf(serving, terminating, drains, limit, coolingDown),
    drains,
    mean,
    limit,
    cooldownRemainingSeconds: coolingDown ? cooldownRemainingSeconds : 0,
  };
}

/** Connections above the mean a handler may hold: the fraction of the mean, with a floor. */
export function allowance(mean: number, spec: BalanceSpec): number {
  return Math.max(spec.allowedImbalance.fraction * mean, spec.allowedImbalance.minConnections);
}

function stateOf(
  serving: HandlerLoad[],
  terminating: HandlerLoad[],
  drains: Drain[],
  limit: number,
  coolingDown: boolean,
): PoolState {
  if (serving.length === 0) return 'NoServingHandlers';
  if (drains.length > 0) return 'Rebalancing';
  if (coolingDown) return 'CoolingDown';
  const balanced =
    serving.every((h) => h.connections <= limit) && terminating.every((h) => h.connections === 0);
  if (balanced) return 'Balanced';
  return 'Rebalancing';
}
