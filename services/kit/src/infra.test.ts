import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseConfig } from './config/config.ts';
import { infraSchema } from './config/infra-config.ts';
import { connectInfra, objectStoreDirOf } from './infra.ts';
import { LocalFolderObjectStore } from './ports/object-store/local-folder-object-store.ts';
import { MemoryObjectStore } from './ports/object-store/memory-object-store.ts';
import { MiniSearchEngine } from './ports/search/minisearch-engine.ts';
import { OpenSearchEngine } from './ports/search/opensearch-engine.ts';

const logger = pino({ level: 'silent' });
// The embedded relational and wide-column files land here, never in the working tree.
const DATA_DIR = mkdtempSync(join(tmpdir(), 'kit-infra-'));

describe('connectInfra: search', () => {
  it('runs search in process, shared by the process, when no OpenSearch is set', async () => {
    const config = parseConfig(infraSchema, { DATA_DIR });
    const first = connectInfra(config, logger, 'a');
    const second = connectInfra(config, logger, 'b');
    expect(first.search).toBeInstanceOf(MiniSearchEngine);
    expect(first.search).toBe(second.search);
    expect(first.adapters.search).toBe('in-process');
    await expect(first.readiness.search!()).resolves.toBeUndefined();
    await Promise.all([first.close(), second.close()]);
  });

  it('opens OpenSearch when OPENSEARCH_URL is set, not ready while unreachable', async () => {
    const config = parseConfig(infraSchema, {
      DATA_DIR,
      OPENSEARCH_URL: 'http://127.0.0.1:1',
    });
    const infra = connectInfra(config, logger, 'c');
    expect(infra.search).toBeInstanceOf(OpenSearchEngine);
    expect(infra.adapters.search).toBe('opensearch');
    await expect(infra.readiness.search!()).rejects.toThrow();
    await infra.close();
  });
});

describe('connectInfra: OpenSearch over TLS with credentials', () => {
  // A throwaway CA and a certificate for 127.0.0.1 it signed, made with openssl.
  const dir = mkdtempSync(join(tmpdir(), 'kit-tls-'));
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  let server: Server;
  let url: string;
  const seen: (string | undefined)[] = [];

  beforeAll(async () => {
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=test-ca',
      '-keyout',
      file('ca.key'),
      '-out',
      file('ca.crt'),
    );
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=127.0.0.1',
      '-keyout',
      file('node.key'),
      '-out',
      file('node.csr'),
    );
    writeFileSync(file('ext'), 'subjectAltName=IP:127.0.0.1\n');
    openssl(
      'x509',
      '-req',
      '-in',
      file('node.csr'),
      '-CA',
      file('ca.crt'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      file('ext'),
      '-out',
      file('node.crt'),
    );
    // Answers like an OpenSearch node to a ping, and notes the credentials it was sent.
    server = createServer(
      { key: readFileSync(file('node.key')), cert: readFileSync(file('node.crt')) },
      (req, res) => {
        seen.push(req.headers.authorization);
        res.setHeader('content-type', 'application/json');
        res.end('{}');
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const connect = (env: Record<string, string>) =>
    connectInfra(
      parseConfig(infraSchema, { DATA_DIR, OPENSEARCH_URL: url, ...env }),
      logger,
      'tls',
    );

  it('trusts the CA of OPENSEARCH_CA_FILE and sends the credentials', async () => {
    const infra = connect({
      OPENSEARCH_CA_FILE: file('ca.crt'),
      OPENSEARCH_USERNAME: 'indexer',
      OPENSEARCH_PASSWORD: 's3cret',
    });
    await expect(infra.readiness.search!()).resolves.toBeUndefined();
    expect(seen.at(-1)).toBe(`Basic ${Buffer.from('indexer:s3cret').toString('base64')}`);
    await infra.close();
  });

  it('does not trust a certificate its CA did not sign', async () => {
    const infra = connect({});
    await expect(infra.readiness.search!()).rejects.toThrow();
    await infra.close();
  });

  it('names the variable when the CA file or a credential is wrong', () => {
    expect(() => connect({ OPENSEARCH_CA_FILE: file('missing.crt') })).toThrow(
      /OPENSEARCH_CA_FILE: cannot read it/,
    );
    expect(() => connect({ OPENSEARCH_CA_FILE: file('ext') })).toThrow(
      /OPENSEARCH_CA_FILE: expected PEM certificates/,
    );
    expect(() => connect({ OPENSEARCH_USERNAME: 'indexer' })).toThrow(/OPENSEARCH_PASSWORD/);
  });
});

describe('connectInfra: object store', () => {
  it('keeps objects in process, shared by the process, when embedded', async () => {
    const config = parseConfig(infraSchema, { DATA_DIR });
    const first = connectInfra(config, logger, 'a');
    const second = connectInfra(config, logger, 'b');
    expect(first.objectStore).toBeInstanceOf(MemoryObjectStore);
    expect(first.objectStore).toBe(second.objectStore);
    expect(first.adapters.objectStore).toBe('in-process');
    await Promise.all([first.close(), second.close()]);
  });

  it('uses the folder OBJECT_STORE_DIR names, ready once it exists', async () => {
    const dir = join(DATA_DIR, 'objects');
    const infra = connectInfra(
      parseConfig(infraSchema, { DATA_DIR, OBJECT_STORE_DIR: dir }),
      logger,
      'd',
    );
    expect(infra.objectStore).toBeInstanceOf(LocalFolderObjectStore);
    expect((infra.objectStore as LocalFolderObjectStore).root).toBe(dir);
    expect(infra.adapters.objectStore).toBe('local-folder');
    await expect(infra.readiness.objectStore!()).resolves.toBeUndefined();
    await infra.close();
  });

  it('on servers without OBJECT_STORE_DIR, uses a folder under the cache directory', () => {
    const config = parseConfig(infraSchema, { DATA_DIR, REDIS_URL: 'redis://127.0.0.1:1' });
    expect(objectStoreDirOf(config)).toBe(join(homedir(), '.cache', 'platform', 'objects'));
    expect(objectStoreDirOf(parseConfig(infraSchema, { DATA_DIR }))).toBeUndefined();
  });
});
