// The benchmark's baseline: a bare `ws` server in a process of its own that
// answers each send_message with the message itself, on the same connection,
// as the chat handler would frame a delivery. Nothing is stored or routed, so
// the figure is what WebSockets, JSON and the benchmark's client cost alone.
// node services/chat/bench/echo-server.ts <port>
import { WebSocketServer } from 'ws';

const port = Number(process.argv[2]);
const server = new WebSocketServer({ host: '127.0.0.1', port, path: '/ws' });
let sequence = 0;

server.on('connection', (ws) => {
  ws.send(JSON.stringify({ type: 'ready', handler: 'echo', userId: 'echo' }));
  ws.on('message', (data) => {
    const event = JSON.parse(data.toString()) as {
      type: string;
      conversationId: string;
      clientSeq: number;
      body: string;
    };
    if (event.type !== 'send_message') return;
    const messageId = (++sequence).toString(16).padStart(22, '0');
    const { conversationId, clientSeq, body } = event;
    const sentAt = Date.now();
    ws.send(
      JSON.stringify({
        type: 'ack',
        duplicate: false,
        conversationId,
        messageId,
        clientSeq,
        sentAt,
      }),
    );
    ws.send(
      JSON.stringify({
        type: 'message',
        conversationId,
        messageId,
        sender: 'echo',
        clientSeq,
        body,
        sentAt,
      }),
    );
  });
});
server.on('listening', () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
