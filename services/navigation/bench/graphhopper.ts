// GraphHopper as a peer router: the Java runner built by `scripts/tools.sh install graphhopper`
// (services/navigation/peer/graphhopper), spoken to in JSON lines over stdin and stdout.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createInterface } from 'node:readline';

export type PeerProfile = 'car' | 'car_shortest';

export interface PeerQuery {
  id: number;
  from: readonly [lat: number, lon: number];
  to: readonly [lat: number, lon: number];
  /** `car` (fastest by our speeds, the default) or `car_shortest`. */
  profile?: PeerProfile;
  /** false: GraphHopper's flexible mode instead of contraction hierarchies. */
  ch?: boolean;
  /** true: the OSM way ids along the route, in order. */
  ways?: boolean;
}

export interface PeerAnswer {
  id: number;
  found: boolean;
  distanceM?: number;
  timeS?: number;
  /** The query's own time inside the JVM (System.nanoTime around GraphHopper.route). */
  micros: number;
  /** Nodes GraphHopper's search visited (its `visited_nodes.sum`), -1 when it tells none. */
  visitedNodes?: number;
  error?: string;
  wayIds?: number[];
}

/** The runner's first line: how the graph was made and how big it is. */
export interface PeerReady {
  loadedFromCache: boolean;
  importMs: number;
  nodes: number;
  edges: number;
  profiles: PeerProfile[];
  ch: boolean;
}

const INSTALL_HINT =
  'run `scripts/tools.sh install graphhopper` (needs JDK 17+ and Maven), then ' +
  '`eval "$(scripts/tools.sh env)"`';

/** The runner named by GRAPHHOPPER_BIN (exported by `scripts/tools.sh env`), or a clear error. */
export function graphHopperRunner(env: NodeJS.ProcessEnv = process.env): string {
  const runner = env.GRAPHHOPPER_BIN;
  if (runner === undefined || runner === '') {
    throw new Error(
      `the GraphHopper runner is not installed: GRAPHHOPPER_BIN is not set; ${INSTALL_HINT}`,
    );
  }
  try {
    accessSync(runner, constants.X_OK);
  } catch {
    throw new Error(
      `the GraphHopper runner ${runner} is missing or not executable; ${INSTALL_HINT}`,
    );
  }
  return runner;
}

export interface PeerOptions {
  /** The launcher, normally graphHopperRunner(). */
  runner: string;
  /** The OSM PBF extract. */
  extract: string;
  /** GraphHopper's graph directory: imported into when empty, loaded when built before. */
  graphDir: string;
}

/** One runner process with its graph loaded; answers routes until stopped. */
export class GraphHopperPeer {
  readonly ready: PeerReady;
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #lines: AsyncIterator<string>;
  readonly #stderr: () => string;

  private constructor(
    child: ChildProcessWithoutNullStreams,
    lines: AsyncIterator<string>,
    stderr: () => string,
    ready: PeerReady,
  ) {
    this.#child = child;
    this.#lines = lines;
    this.#stderr = stderr;
    this.ready = ready;
  }

  /** Starts the runner and waits for its import (or load) to finish. */
  static async start(options: PeerOptions): Promise<GraphHopperPeer> {
    const child = spawn(options.runner, [options.extract, options.graphDir], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    // A runner that dies mid-write breaks the pipe; route() reports the stopped runner instead.
    child.stdin.on('error', () => {});
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    const spawned = new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    await spawned.catch((cause: unknown) => {
      throw new Error(`cannot start the GraphHopper runner ${options.runner}; ${INSTALL_HINT}`, {
        cause,
      });
    });

    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const first = await lines.next();
    if (first.done) {
      await exited(child);
      throw new Error(
        `the GraphHopper runner stopped before it was ready (exit ${child.exitCode}): ` +
          (stderr.trim() || 'no output'),
      );
    }
    const ready = JSON.parse(first.value) as PeerReady & { ready: true };
    return new GraphHopperPeer(child, lines, () => stderr, ready);
  }

  /** Routes every query; the answers come back in the queries' order. */
  async route(queries: readonly PeerQuery[]): Promise<PeerAnswer[]> {
    const writing = this.#write(queries);
    const answers: PeerAnswer[] = [];
    for (let i = 0; i < queries.length; i++) {
      const line = await this.#lines.next();
      if (line.done) {
        throw new Error(
          `the GraphHopper runner stopped after ${answers.length} of ${queries.length} answers: ` +
            (this.#stderr().trim() || 'no output'),
        );
      }
      answers.push(JSON.parse(line.value) as PeerAnswer);
    }
    await writing;
    return answers;
  }

  /** Closes stdin, which ends the runner; waits for the exit. */
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const done = exited(this.#child);
    this.#child.stdin.end();
    await done;
  }

  async #write(queries: readonly PeerQuery[]): Promise<void> {
    const stdin = this.#child.stdin;
    for (const query of queries) {
      if (!stdin.write(JSON.stringify(query) + '\n')) {
        await new Promise((resolve) => {
          stdin.once('drain', resolve);
          stdin.once('close', resolve);
        });
      }
    }
  }
}

function exited(child: ChildProcessWithoutNullStreams): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}
