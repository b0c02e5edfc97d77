// The baselines the redirect path is measured against: a bare node:http
// handler and a plain express 5 route, each answering one fixed 301.
// Usage: node baseline-servers.ts bare|express <port>
import { createServer } from 'node:http';
import express from 'express';

const [kind, port] = [process.argv[2], Number(process.argv[3])];
const target = 'https://example.com/a/fixed/target';

if (kind === 'bare') {
  createServer((_req, res) => {
    res.writeHead(301, { location: target, 'cache-control': 'no-store' });
    res.end();
  }).listen(port, '127.0.0.1');
} else if (kind === 'express') {
  const app = express();
  app.get('/:code', (_req, res) => {
    res.set('cache-control', 'no-store').redirect(301, target);
  });
  app.listen(port, '127.0.0.1');
} else {
  process.stderr.write('usage: baseline-servers.ts bare|express <port>\n');
  process.exit(2);
}
