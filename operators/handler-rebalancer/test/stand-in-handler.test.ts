import { handlerAdminContract } from '../src/testing/index.ts';
import { StandInHandler } from './stand-in-handler.ts';

/** The stand-in the controller's tests run serves the contract the real handlers must. */
handlerAdminContract('stand-in', async () => {
  const handler = new StandInHandler('stand-in-0', 0);
  const port = await handler.listen();
  return {
    adminUrl: `http://127.0.0.1:${port}`,
    name: 'stand-in-0',
    connect: async (count) => {
      for (let i = 0; i < count; i++) handler.accept();
    },
    stop: () => handler.close(),
  };
});
