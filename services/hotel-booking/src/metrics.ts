import { Counter, Histogram, type Metrics } from '@platform/kit';

export interface BookingMetrics {
  reservations: Counter<'outcome'>;
  releases: Counter<'reason' | 'trigger'>;
  releaseDelay: Histogram<'trigger'>;
  payments: Counter<'outcome'>;
  refunds: Counter<'reason'>;
}

/** The hotelbooking_ metrics, registered once per process. */
export function bookingMetrics(metrics: Metrics): BookingMetrics {
  const registers = [metrics.registry];
  return {
    reservations: new Counter({
      name: 'hotelbooking_reservations_total',
      help: 'Booking attempts by outcome: reserved, or the reason rooms were not held.',
      labelNames: ['outcome'],
      registers,
    }),
    releases: new Counter({
      name: 'hotelbooking_holds_released_total',
      help: 'Holds released, by reason and by what triggered the release.',
      labelNames: ['reason', 'trigger'],
      registers,
    }),
    releaseDelay: new Histogram({
      name: 'hotelbooking_hold_release_delay_seconds',
      help: 'Time from a hold expiring to its release, by trigger.',
      labelNames: ['trigger'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    }),
    payments: new Counter({
      name: 'hotelbooking_payments_total',
      help: 'Payment callbacks by outcome.',
      labelNames: ['outcome'],
      registers,
    }),
    refunds: new Counter({
      name: 'hotelbooking_refunds_total',
      help: 'Refunds recorded, by reason.',
      labelNames: ['reason'],
      registers,
    }),
  };
}
