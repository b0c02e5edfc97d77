import { KubeConfig } from '@kubernetes/client-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseAllDocuments } from 'yaml';

/**
 * A real etcd and kube-apiserver on 127.0.0.1, for tests that need the API
 * server's own validation, defaulting and admission (what controller-runtime's
 * envtest gives Go projects). No controllers run: nothing reconciles, nothing
 * is scheduled.
 */

/** What a manifest holds at least; the rest is sent to the server untouched. */
export interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [field: string]: unknown };
  [field: string]: unknown;
}

export interface TestApiServer {
  /** Admin credentials (group system:masters) for the server. */
  kubeConfig: KubeConfig;
  /** https://127.0.0.1:<port> */
  url: string;
  /** How long etcd and the API server took to become ready, in milliseconds. */
  startedInMs: number;
  /** Stops both processes and removes their data. Safe to call twice. */
  stop(): Promise<void>;
}

export interface ApiServerOptions {
  /** Path of the etcd binary; default $ETCD_BIN. */
  etcd?: string;
  /** Path of the kube-apiserver binary; default $KUBE_APISERVER_BIN. */
  kubeApiServer?: string;
  /** Give up waiting for /readyz after this long; default 90 s. */
  readyTimeoutMs?: number;
}

export interface Rejection {
  kind: string;
  name: string;
  namespace?: string;
  /** HTTP status of the refusal; 0 when the request never got an answer. */
  status: number;
  message: string;
}

export interface DryRunResult {
  rejections: Rejection[];
  /** Warning headers the server sent (deprecations, ignored fields), one line each. */
  warnings: string[];
}

const FIELD_MANAGER = 'platform-tests';

// Children still running when the test process exits are killed with it.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Starts etcd and kube-apiserver on free ports and waits until the API server is ready. */
export async function startApiServer(options: ApiServerOptions = {}): Promise<TestApiServer> {
  const etcdBin = binary(options.etcd, 'ETCD_BIN');
  const apiServerBin = binary(options.kubeApiServer, 'KUBE_APISERVER_BIN');
  const started = Date.now();
  const deadline = started + (options.readyTimeoutMs ?? 90_000);
  const dir = await mkdtemp(join(tmpdir(), 'kube-apiserver-'));
  const children: ChildProcess[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const child of children.reverse()) await terminate(child);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const [etcdPort, peerPort, apiPort] = await freePorts(3);
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    children.push(
      launch(etcdBin, join(dir, 'etcd.log'), [
        '--name=test',
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=test=${peerUrl}`,
        // Test data is thrown away; fsync only slows the suite down.
        '--unsafe-no-fsync',
        '--log-level=warn',
      ]),
    );
    await waitFor('etcd', deadline, children[0]!, join(dir, 'etcd.log'), async () => {
      const health = await fetch(`${etcdUrl}/health`).then((r) => r.json());
      return (health as { health?: string }).health === 'true';
    });

    const token = randomBytes(24).toString('hex');
    const credentials = await writeCredentials(dir, token);
    const url = `https://127.0.0.1:${apiPort}`;
    children.push(
      launch(apiServerBin, join(dir, 'kube-apiserver.log'), [
        `--etcd-servers=${etcdUrl}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${apiPort}`,
        // The server writes a self-signed serving certificate here (apiserver.crt).
        `--cert-dir=${join(dir, 'certs')}`,
        `--token-auth-file=${credentials.tokens}`,
        '--authorization-mode=RBAC',
        `--service-account-key-file=${credentials.publicKey}`,
        `--service-account-signing-key-file=${credentials.privateKey}`,
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        '--service-cluster-ip-range=10.96.0.0/16',
        // A loopback address cannot back the `kubernetes` Service's endpoints.
        '--endpoint-reconciler-type=none',
        '--v=0',
      ]),
    );
    const caFile = join(dir, 'certs', 'apiserver.crt');
    let kubeConfig: KubeConfig | undefined;
    await waitFor(
      'kube-apiserver',
      deadline,
      children[1]!,
      join(dir, 'kube-apiserver.log'),
      async () => {
        if (!existsSync(caFile)) return false;
        kubeConfig = adminKubeConfig(url, readFileSync(caFile), token);
        const ready = await call(kubeConfig, 'GET', '/readyz');
        return ready.status === 200;
      },
    );

    return { kubeConfig: kubeConfig!, url, startedInMs: Date.now() - started, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Installs every CustomResourceDefinition found in the YAML files under the
 * given directories (recursively), with server-side apply: the largest CRDs
 * do not fit client-side apply's last-applied annotation. Resolves when each
 * is Established and served. Returns the CRD names.
 */
export async function installCrds(kubeConfig: KubeConfig, dirs: string[]): Promise<string[]> {
  const crds = dirs
    .flatMap((dir) => yamlFiles(dir))
    .flatMap((file) => readManifests(readFileSync(file, 'utf8')))
    .filter((object) => object.kind === 'CustomResourceDefinition');

  for (const crd of crds) {
    const path = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`;
    const applied = await call(kubeConfig, 'PATCH', path, { body: crd, apply: true, force: true });
    if (applied.status >= 300) {
      throw new Error(`CRD ${crd.metadata.name} refused: ${statusMessage(applied)}`);
    }
  }

  const deadline = Date.now() + 60_000;
  for (const crd of crds) {
    const path = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`;
    for (;;) {
      const conditions = ((await call(kubeConfig, 'GET', path)).body?.status?.conditions ?? []) as {
        type: string;
        status: string;
        message?: string;
      }[];
      const established = conditions.find((c) => c.type === 'Established')?.status === 'True';
      if (established) break;
      if (Date.now() > deadline) {
        throw new Error(`CRD ${crd.metadata.name} not established: ${JSON.stringify(conditions)}`);
      }
      await sleep(100);
    }
  }
  discoveries.delete(kubeConfig);
  return crds.map((crd) => crd.metadata.name);
}

/**
 * Server-side applies every object with dryRun=All and strict field
 * validation, so the API server validates, defaults and admits each one as if
 * it were created, but stores nothing. Namespaces are the exception, or
 * nothing in them could be checked: Namespace objects in the list are applied
 * for real, labels included (so Pod Security admission judges the workloads
 * in them), and namespaces the objects only name are created bare. Objects
 * without a namespace go to `namespace` when their kind is namespaced.
 */
export async function dryRunApply(
  kubeConfig: KubeConfig,
  objects: ManifestObject[],
  options: { namespace?: string } = {},
): Promise<DryRunResult> {
  const result: DryRunResult = { rejections: [], warnings: [] };
  const placed: { object: ManifestObject; path: string }[] = [];

  for (const object of objects) {
    const resource = await findResource(kubeConfig, object.apiVersion, object.kind);
    if (!resource) {
      result.rejections.push({
        ...identify(object),
        status: 0,
        message: `no resource for ${object.apiVersion} ${object.kind} (missing CRD?)`,
      });
      continue;
    }
    const metadata = { ...object.metadata };
    if (resource.namespaced) metadata.namespace ??= options.namespace ?? 'default';
    else delete metadata.namespace;
    const placedObject = { ...object, metadata };
    placed.push({ object: placedObject, path: objectPath(object.apiVersion, resource, metadata) });
  }

  const isNamespace = (object: ManifestObject) =>
    object.kind === 'Namespace' && object.apiVersion === 'v1';
  for (const { object, path } of placed.filter(({ object }) => isNamespace(object))) {
    const answer = await call(kubeConfig, 'PATCH', path, {
      body: object,
      apply: true,
      force: true,
    });
    record(result, object, answer);
  }
  const namespaces = new Set(placed.flatMap(({ object }) => object.metadata.namespace ?? []));
  for (const { object } of placed) if (isNamespace(object)) namespaces.add(object.metadata.name);
  for (const namespace of namespaces) await ensureNamespace(kubeConfig, namespace);

  for (const { object, path } of placed) {
    if (isNamespace(object)) continue;
    const answer = await call(kubeConfig, 'PATCH', path, {
      body: object,
      apply: true,
      force: true,
      dryRun: true,
    });
    record(result, object, answer);
  }
  return result;
}

function record(result: DryRunResult, object: ManifestObject, answer: Answer): void {
  for (const warning of answer.warnings) {
    result.warnings.push(`${object.kind} ${object.metadata.name}: ${warning}`);
  }
  if (answer.status >= 300) {
    result.rejections.push({
      ...identify(object),
      status: answer.status,
      message: statusMessage(answer),
    });
  }
}

/** Parses a multi-document YAML text into the documents that are Kubernetes objects. */
export function readManifests(text: string): ManifestObject[] {
  return parseAllDocuments(text).flatMap((doc) => {
    if (doc.errors.length > 0) throw doc.errors[0];
    const value = doc.toJS({ maxAliasCount: -1 }) as unknown;
    return isManifest(value) ? [value] : [];
  });
}

export function isManifest(value: unknown): value is ManifestObject {
  if (typeof value !== 'object' || value === null) return false;
  const { apiVersion, kind, metadata } = value as Partial<ManifestObject>;
  return typeof apiVersion === 'string' && typeof kind === 'string' && typeof metadata === 'object';
}

/** Every .yaml/.yml file under a directory, recursively, in a stable order. */
export function yamlFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => /\.ya?ml$/.test(file))
    .sort()
    .map((file) => join(dir, file));
}

function binary(given: string | undefined, variable: string): string {
  const path = given ?? process.env[variable];
  if (!path || !existsSync(path)) {
    throw new Error(
      `${variable} is not set to a binary: run scripts/tools.sh install, ` +
        'then eval "$(scripts/tools.sh env)"',
    );
  }
  return path;
}

function launch(command: string, logFile: string, args: string[]): ChildProcess {
  const log = createWriteStream(logFile);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const hard = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(hard);
}

/** Polls `ready` until it answers true; fails early, with the log's tail, if the process dies. */
async function waitFor(
  name: string,
  deadline: number,
  child: ChildProcess,
  logFile: string,
  ready: () => Promise<boolean>,
): Promise<void> {
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}):\n${tail(logFile)}`);
    }
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${name} not ready in time:\n${tail(logFile)}`);
    await sleep(200);
  }
}

function tail(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-30).join('\n') : '';
}

async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, async () => {
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return server;
    }),
  );
  const ports = servers.map((server) => (server.address() as { port: number }).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/** The service-account signing key pair and a static token for one admin, written to `dir`. */
async function writeCredentials(dir: string, token: string) {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const files = {
    publicKey: join(dir, 'sa.pub'),
    privateKey: join(dir, 'sa.key'),
    tokens: join(dir, 'tokens.csv'),
  };
  await writeFile(files.publicKey, publicKey);
  await writeFile(files.privateKey, privateKey, { mode: 0o600 });
  await writeFile(files.tokens, `${token},admin,admin,"system:masters"\n`, { mode: 0o600 });
  return files;
}

function adminKubeConfig(url: string, ca: Buffer, token: string): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'test', server: url, caData: ca.toString('base64') }],
    users: [{ name: 'admin', token }],
    contexts: [{ name: 'test', cluster: 'test', user: 'admin' }],
    currentContext: 'test',
  });
  return kubeConfig;
}

interface Answer {
  status: number;
  // A decoded JSON body: a Kubernetes object, a list or a Status.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  warnings: string[];
}

/**
 * One request to the API server with the kubeconfig's credentials. Bodies go
 * as they are: the client library's typed serializer would drop fields it
 * does not know, hiding exactly the mistakes strict validation should catch.
 */
async function call(
  kubeConfig: KubeConfig,
  method: string,
  path: string,
  send: { body?: unknown; apply?: boolean; force?: boolean; dryRun?: boolean } = {},
): Promise<Answer> {
  const server = new URL(kubeConfig.getCurrentCluster()!.server);
  const query = new URLSearchParams();
  if (send.apply) {
    query.set('fieldManager', FIELD_MANAGER);
    query.set('fieldValidation', 'Strict');
  }
  if (send.force) query.set('force', 'true');
  if (send.dryRun) query.set('dryRun', 'All');
  const options: RequestOptions = {
    method,
    hostname: server.hostname,
    port: server.port,
    path: query.size > 0 ? `${path}?${query}` : path,
    headers: {
      accept: 'application/json',
      ...(send.body === undefined
        ? {}
        : { 'content-type': send.apply ? 'application/apply-patch+yaml' : 'application/json' }),
    },
  };
  await kubeConfig.applyToHTTPSOptions(options);

  return new Promise((resolve, reject) => {
    const req = httpsRequest(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // /readyz answers plain text.
        }
        // Raw headers: Node joins repeated Warning headers into one string.
        const warnings = res.rawHeaders
          .filter((_, i) => i % 2 === 1 && res.rawHeaders[i - 1]!.toLowerCase() === 'warning')
          .map(warnText);
        resolve({ status: res.statusCode ?? 0, body, warnings });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    // JSON is YAML, so an apply patch can be sent as JSON.
    if (send.body !== undefined) req.end(JSON.stringify(send.body));
    else req.end();
  });
}

/** The text of a `Warning: 299 - "text"` header, unquoted. */
function warnText(header: string): string {
  const quoted = /^\d{3} \S+ "((?:[^"\\]|\\.)*)"/.exec(header)?.[1];
  return quoted === undefined ? header : quoted.replace(/\\(.)/g, '$1');
}

function statusMessage(answer: Answer): string {
  return typeof answer.body === 'object' && answer.body?.message
    ? String(answer.body.message)
    : `HTTP ${answer.status}: ${String(answer.body).slice(0, 500)}`;
}

async function ensureNamespace(kubeConfig: KubeConfig, name: string): Promise<void> {
  const created = await call(kubeConfig, 'POST', '/api/v1/namespaces', {
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
  });
  if (created.status >= 300 && created.status !== 409) {
    throw new Error(`namespace ${name}: ${statusMessage(created)}`);
  }
  // kube-controller-manager would add the default ServiceAccount, which admission of Pods needs.
  const account = await call(kubeConfig, 'POST', `/api/v1/namespaces/${name}/serviceaccounts`, {
    body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } },
  });
  if (account.status >= 300 && account.status !== 409) {
    throw new Error(`default ServiceAccount in ${name}: ${statusMessage(account)}`);
  }
}

interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
}

// Discovery answers per server, by group/version; rebuilt after CRDs change.
const discoveries = new WeakMap<KubeConfig, Map<string, ApiResource[]>>();

/** The resource serving a kind, from discovery; asked again on a miss, since CRDs appear late. */
async function findResource(
  kubeConfig: KubeConfig,
  apiVersion: string,
  kind: string,
): Promise<ApiResource | undefined> {
  let cache = discoveries.get(kubeConfig);
  if (!cache) discoveries.set(kubeConfig, (cache = new Map()));

  const deadline = Date.now() + 2_000;
  for (;;) {
    let resources = cache.get(apiVersion);
    if (!resources) {
      const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      const answer = await call(kubeConfig, 'GET', path);
      resources = answer.status === 200 ? (answer.body.resources as ApiResource[]) : [];
      if (answer.status === 200) cache.set(apiVersion, resources);
    }
    const found = resources.find((r) => r.kind === kind && !r.name.includes('/'));
    if (found || Date.now() > deadline) return found;
    cache.delete(apiVersion);
    await sleep(250);
  }
}

function objectPath(
  apiVersion: string,
  resource: ApiResource,
  metadata: ManifestObject['metadata'],
): string {
  const root = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const scope = metadata.namespace ? `/namespaces/${encodeURIComponent(metadata.namespace)}` : '';
  return `${root}${scope}/${resource.name}/${encodeURIComponent(metadata.name)}`;
}

function identify(object: ManifestObject): Pick<Rejection, 'kind' | 'name' | 'namespace'> {
  return {
    kind: object.kind,
    name: object.metadata.name,
    ...(object.metadata.namespace ? { namespace: object.metadata.namespace } : {}),
  };
}
