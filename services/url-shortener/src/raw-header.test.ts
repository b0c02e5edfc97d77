import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { rawHeader } from './raw-header.ts';

/** The request node:http parses from raw request bytes. */
async function parsed(head: string): Promise<IncomingMessage> {
  let seen: (req: IncomingMessage) => void = () => undefined;
  const request = new Promise<IncomingMessage>((resolve) => (seen = resolve));
  const server = createServer((req, res) => {
    seen(req);
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
  socket.end(`${head}\r\nConnection: close\r\n\r\n`);
  const req = await request;
  socket.destroy();
  await new Promise((resolve) => server.close(resolve));
  return req;
}

describe('rawHeader', () => {
  it('answers what req.headers does, whatever the case and duplicates', async () => {
    const req = await parsed(
      [
        'GET /abc1234 HTTP/1.1',
        'Host: x',
        'USER-AGENT: first agent',
        'User-Agent: second agent',
        'referer: https://a.example/',
        'Referer: https://b.example/',
        'CF-IPCountry: fr',
        'cf-ipcountry: de',
      ].join('\r\n'),
    );

    for (const name of ['user-agent', 'referer', 'cf-ipcountry', 'x-missing']) {
      expect(rawHeader(req.rawHeaders, name)).toBe(req.headers[name]);
    }
    expect(rawHeader(req.rawHeaders, 'user-agent')).toBe('first agent');
    expect(rawHeader(req.rawHeaders, 'cf-ipcountry')).toBe('fr, de');
  });
});
