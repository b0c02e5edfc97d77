import { handlerAdminContract } from '@platform/handler-rebalancer/testing';
import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import { Tokens } from '../src/auth.ts';
import { freePort } from '@platform/kit/testing';
import { startChat } from './processes.ts';
import { systemEnv, TEST_SECRET } from './system.ts';

/**
 * The rebalancing operator's own suite of the handler admin contract, run
 * against a real chat handler process (embedded stores): what the operator
 * expects of /admin/load and /admin/drain is what the handler does.
 */
handlerAdminContract('chat handler', async () => {
  const { env } = await systemEnv('embedded');
  const name = `h-${randomBytes(3).toString('hex')}`;
  const handler = await startChat(
    name,
    'api,handler',
    { port: await freePort(), adminPort: await freePort() },
    env,
  );
  const tokens = new Tokens(TEST_SECRET, 3600);
  // User ids are lower-case letters and digits.
  const user = randomBytes(4).toString('hex');
  const sockets: WebSocket[] = [];
  return {
    adminUrl: handler.adminUrl,
    name,
    async connect(count) {
      // One user per connection, each counted once the handler says it is ready.
      const opened = Array.from({ length: count }, async (_, i) => {
        const { token } = await tokens.issue(`${user}u${sockets.length + i}`);
        const ws = new WebSocket(handler.wsUrl, { headers: { authorization: `Bearer ${token}` } });
        sockets.push(ws);
        await new Promise<void>((resolve, reject) => {
          ws.on('message', (data) => {
            if ((JSON.parse(data.toString()) as { type: string }).type === 'ready') resolve();
          });
          ws.once('error', reject);
          ws.once('close', (code) => reject(new Error(`closed with ${code} before ready`)));
        });
      });
      await Promise.all(opened);
    },
    async stop() {
      for (const ws of sockets) ws.terminate();
      await handler.kill('SIGKILL');
    },
  };
});
