import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseConfig } from './config/config.ts';
import { infraSchema } from './config/infra-config.ts';
import { connectInfra } from './infra.ts';
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

  it('opens OpenSearch when OPENSEARCH_URL is set, and is not ready while it is unreachable', async () => {
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
