import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import { createLogger } from '@platform/kit';
import type { Navigator } from './navigator.ts';
import { NavigationSession, type SessionOptions } from './sessions.ts';

const options: SessionOptions = {
  deviationM: 50,
  deviationPings: 3,
  arrivalM: 25,
  maxMessageBytes: 4096,
  maxBadMessages: 5,
  maxSessions: 10,
  maxMessagesPerSecond: 100,
  maxBufferedBytes: 10_000,
  heartbeatMs: 30_000,
  idleMs: 60_000,
};

/** A socket whose unread backlog the test sets, recording what the session does with it. */
class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  sent: string[] = [];
  terminated = false;
  send(data: string) {
    this.sent.push(data);
  }
  close() {
    this.readyState = 3;
    this.emit('close');
  }
  terminate() {
    this.terminated = true;
    this.close();
  }
}

const route = {
  type: 'Feature',
  geometry: {
    type: 'LineString',
    coordinates: [
      [7.42, 43.73],
      [7.43, 43.74],
    ],
  },
  properties: {},
};
const navigator = { route: () => route } as unknown as Navigator;
const start = JSON.stringify({
  type: 'start',
  from: { lat: 43.73, lng: 7.42 },
  to: { lat: 43.74, lng: 7.43 },
});

describe('NavigationSession', () => {
  it('answers while the client reads, and cuts it off rather than buffer past the limit', () => {
    const socket = new FakeSocket();
    new NavigationSession(
      socket as unknown as WebSocket,
      navigator,
      options,
      createLogger('test', 'silent'),
    );
    socket.emit('message', Buffer.from(start), false);
    expect(socket.sent).toHaveLength(1);
    expect(JSON.parse(socket.sent[0]!)).toMatchObject({ type: 'route' });

    socket.bufferedAmount = 10_001;
    socket.emit('message', Buffer.from(start), false);
    expect(socket.sent).toHaveLength(1);
    expect(socket.terminated).toBe(true);
  });
});
