import { pino } from 'pino';
import { Lifecycle } from './lifecycle.ts';

interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

function capturingLogger(): { logger: pino.Logger; logs: LogLine[] } {
  const logs: LogLine[] = [];
  const logger = pino(
    { level: 'info', formatters: { level: (label) => ({ level: label }) } },
    { write: (line: string) => logs.push(JSON.parse(line) as LogLine) },
  );
  return { logger, logs };
}

function tick(ms = 0): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('Lifecycle.shutdown', () => {
  it('runs hooks in reverse order of registration', async () => {
    const lifecycle = new Lifecycle(capturingLogger().logger);
    const ran: string[] = [];
    lifecycle.onShutdown('cache', () => void ran.push('cache'));
    lifecycle.onShutdown('consumer', async () => void ran.push('consumer'));
    lifecycle.onShutdown('http', () => void ran.push('http'));

    await lifecycle.shutdown();

    expect(ran).toEqual(['http', 'consumer', 'cache']);
  });

  it('waits for each hook before starting the next', async () => {
    const lifecycle = new Lifecycle(capturingLogger().logger);
    const events: string[] = [];
    lifecycle.onShutdown('cache', () => void events.push('cache'));
    lifecycle.onShutdown('http', async () => {
      events.push('http started');
      await tick(20);
      events.push('http stopped');
    });

    await lifecycle.shutdown();

    expect(events).toEqual(['http started', 'http stopped', 'cache']);
  });

  it('runs each hook once when shutdown is called again', async () => {
    const lifecycle = new Lifecycle(capturingLogger().logger);
    let runs = 0;
    lifecycle.onShutdown('http', async () => {
      runs += 1;
      await tick(10);
    });

    const first = lifecycle.shutdown();
    const second = lifecycle.shutdown();
    await Promise.all([first, second]);
    await lifecycle.shutdown();

    expect(second).toBe(first);
    expect(runs).toBe(1);
  });

  it('keeps going past a failing hook, logs it and rejects at the end', async () => {
    const { logger, logs } = capturingLogger();
    const lifecycle = new Lifecycle(logger);
    const ran: string[] = [];
    lifecycle.onShutdown('cache', () => void ran.push('cache'));
    lifecycle.onShutdown('consumer', () => {
      throw new Error('broker unreachable');
    });
    lifecycle.onShutdown('http', async () => void ran.push('http'));

    await expect(lifecycle.shutdown()).rejects.toThrow('shutdown incomplete');

    expect(ran).toEqual(['http', 'cache']);
    expect(logs.filter((line) => line.level === 'error')).toEqual([
      expect.objectContaining({
        msg: 'shutdown step failed',
        hook: 'consumer',
        err: expect.objectContaining({ message: 'broker unreachable' }),
      }),
    ]);
  });

  it('rejects for a hook whose promise rejects', async () => {
    const lifecycle = new Lifecycle(capturingLogger().logger);
    lifecycle.onShutdown('db', () => Promise.reject(new Error('pool busy')));

    await expect(lifecycle.shutdown()).rejects.toThrow('shutdown incomplete');
  });
});

describe('Lifecycle.handleSignals', () => {
  type SignalListener = (signal: NodeJS.Signals) => void;
  let added: { signal: NodeJS.Signals; listener: SignalListener }[] = [];

  /** Calls handleSignals and returns its listeners, without touching anyone else's. */
  function install(lifecycle: Lifecycle, exit: (code: number) => void) {
    const before = {
      SIGTERM: process.listeners('SIGTERM'),
      SIGINT: process.listeners('SIGINT'),
    };
    lifecycle.handleSignals(exit);
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      for (const listener of process.listeners(signal)) {
        if (!before[signal].includes(listener)) added.push({ signal, listener });
      }
    }
    const on = (signal: NodeJS.Signals) => added.find((entry) => entry.signal === signal)!.listener;
    return { SIGTERM: on('SIGTERM'), SIGINT: on('SIGINT') };
  }

  afterEach(() => {
    for (const { signal, listener } of added) process.off(signal, listener);
    added = [];
  });

  it('shuts down on SIGTERM and then exits 0', async () => {
    const lifecycle = new Lifecycle(capturingLogger().logger);
    const events: string[] = [];
    lifecycle.onShutdown('http', async () => {
      await tick(10);
      events.push('http stopped');
    });
    const signals = install(lifecycle, (code) => events.push(`exit ${code}`));

    signals.SIGTERM('SIGTERM');
    await tick(50);

    expect(events).toEqual(['http stopped', 'exit 0']);
  });

  it('exits 1 when a hook fails on SIGINT', async () => {
    const lifecycle = new Lifecycle(capturingLogger().logger);
    const codes: number[] = [];
    lifecycle.onShutdown('db', () => {
      throw new Error('pool busy');
    });
    const signals = install(lifecycle, (code) => codes.push(code));

    signals.SIGINT('SIGINT');
    await tick(20);

    expect(codes).toEqual([1]);
  });

  it('exits 1 at once on a second signal, without running hooks again', async () => {
    const { logger, logs } = capturingLogger();
    const lifecycle = new Lifecycle(logger);
    let runs = 0;
    let release = () => {};
    lifecycle.onShutdown('http', async () => {
      runs += 1;
      await new Promise<void>((resolve) => (release = resolve));
    });
    const codes: number[] = [];
    const signals = install(lifecycle, (code) => codes.push(code));

    signals.SIGTERM('SIGTERM');
    signals.SIGINT('SIGINT');
    const afterSecond = [...codes];
    release();
    await tick(20);

    expect(afterSecond).toEqual([1]);
    expect(runs).toBe(1);
    expect(logs).toContainEqual(
      expect.objectContaining({ level: 'warn', msg: 'second signal, exiting now' }),
    );
  });
});

describe('Lifecycle.fail', () => {
  it('logs what stopped, runs every shutdown hook, then exits with 1', async () => {
    const { logger, logs } = capturingLogger();
    const lifecycle = new Lifecycle(logger);
    const events: string[] = [];
    lifecycle.handleSignals((code) => events.push(`exit ${code}`));
    lifecycle.onShutdown('http', () => void events.push('http'));

    lifecycle.fail('consumer', new Error('gave up'));
    await tick(10);

    expect(events).toEqual(['http', 'exit 1']);
    expect(logs).toContainEqual(
      expect.objectContaining({ level: 'fatal', part: 'consumer', msg: expect.any(String) }),
    );
    process.removeAllListeners('SIGTERM');
    process.removeAllListeners('SIGINT');
  });
});
