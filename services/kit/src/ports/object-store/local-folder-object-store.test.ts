import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { objectStoreContract } from '../../testing/object-store.contract.ts';
import { LocalFolderObjectStore } from './local-folder-object-store.ts';

const base = mkdtempSync(join(tmpdir(), 'kit-objects-'));

objectStoreContract('local folder', async () => new LocalFolderObjectStore(join(base, 'contract')));

describe('local folder object store', () => {
  test('a key never reaches outside the folder', async () => {
    const root = join(base, 'jail');
    const store = new LocalFolderObjectStore(root);
    for (const key of ['../outside', 'a/../../outside', '/tmp/outside']) {
      await expect(store.put(key, Buffer.from('x'))).rejects.toThrow('invalid object key');
    }
    expect(existsSync(join(base, 'outside'))).toBe(false);
    expect(readdirSync(base)).not.toContain('outside');
  });

  test('a writer killed with SIGKILL mid-stream leaves no object, only a temp file', async () => {
    const root = join(base, 'crash');
    const module = fileURLToPath(new URL('./local-folder-object-store.ts', import.meta.url));
    // The child streams 1 MiB, says so, then keeps the put open until it is killed.
    const script = `
      import { LocalFolderObjectStore } from ${JSON.stringify(module)};
      const store = new LocalFolderObjectStore(${JSON.stringify(root)});
      async function* body() {
        yield Buffer.alloc(1024 * 1024, 7);
        console.log('streaming');
        await new Promise(() => setInterval(() => undefined, 1000));
      }
      await store.put('media/half', body());
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (data: Buffer) => {
        if (data.toString().includes('streaming')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`child exited ${code} too early`)));
    });
    const exited = new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const store = new LocalFolderObjectStore(root);
    expect(await store.get('media/half')).toBeUndefined();
    expect(await store.head('media/half')).toBeUndefined();
    const temps = readdirSync(join(root, '.tmp'));
    expect(temps).toHaveLength(1);
    expect(statSync(join(root, '.tmp', temps[0]!)).size).toBe(1024 * 1024);
    expect(
      (await store.put('media/half', Buffer.from('whole'), { ifNotExists: true })).created,
    ).toBe(true);
  });

  test('temp files a crash left are swept once an hour old, fresh ones (a live writer) kept', async () => {
    const root = join(base, 'sweep');
    mkdirSync(join(root, '.tmp'), { recursive: true });
    writeFileSync(join(root, '.tmp', 'old.part'), 'left over');
    writeFileSync(join(root, '.tmp', 'new.part'), 'being written');
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(join(root, '.tmp', 'old.part'), twoHoursAgo, twoHoursAgo);

    await new LocalFolderObjectStore(root).ping();
    expect(readdirSync(join(root, '.tmp'))).toEqual(['new.part']);
  });
});
