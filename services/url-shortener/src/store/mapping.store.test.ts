import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryCache, SqliteWideColumn } from '@platform/kit';
import { CodeSpace } from '../domain/code-space.ts';
import { MappingStore } from './mapping.store.ts';

describe('MappingStore.init', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mappings-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const open = (file: string) =>
    new MappingStore(new SqliteWideColumn(join(dir, file)), new MemoryCache(), {
      nearCacheSize: 10,
      nearCacheTtlMs: 1000,
    });

  it('starts again on a store of its own code space', async () => {
    const space = new CodeSpace(7, 'first-secret');
    await open('same.sqlite').init(space.fingerprint);
    await expect(
      open('same.sqlite').init(new CodeSpace(7, 'first-secret').fingerprint),
    ).resolves.toBeUndefined();
  });

  it('refuses a store whose codes came from another secret or length', async () => {
    await open('other.sqlite').init(new CodeSpace(7, 'first-secret').fingerprint);
    await expect(
      open('other.sqlite').init(new CodeSpace(7, 'second-secret').fingerprint),
    ).rejects.toThrow(
      /^invalid configuration: CODE_SECRET: this store holds codes of another secret/,
    );
    await expect(
      open('other.sqlite').init(new CodeSpace(6, 'first-secret').fingerprint),
    ).rejects.toThrow(/CODE_SECRET/);
  });

  it('keeps the secret out of the fingerprint', () => {
    const { fingerprint } = new CodeSpace(7, 'a-secret-value');
    expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(fingerprint).not.toContain('a-secret-value');
  });
});
