import { connect, createServer, type Server } from 'node:net';

/**
 * A TCP relay on 127.0.0.1:port to host:targetPort, for a test that needs a
 * server to come back: a client pointed at the port fails while no relay
 * listens there, then reaches the real server once one does. Closes with the
 * returned server's close().
 */
export async function startRelay(port: number, host: string, targetPort: number): Promise<Server> {
  const relay = createServer((client) => {
    const server = connect(targetPort, host);
    client.pipe(server).pipe(client);
    client.on('error', () => server.destroy());
    server.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => relay.listen(port, '127.0.0.1', resolve));
  return relay;
}
