/**
 * A TCP proxy in front of the test's PostgreSQL that breaks connections on cue, for the loader's database
 * faults (test/security/database-faults.test.ts): once a connection has sent a `COPY … FROM STDIN` and then
 * `afterBytes` more, it
 *   - 'stall': stops forwarding, both ways, and holds the sockets open like a hung middlebox (TCP still
 *     acknowledged by the kernel, nothing answered; the client's close is not passed on either);
 *   - 'reset': resets the client's socket (RST) and closes the server's.
 * `scope` 'copy' breaks that connection only; 'all' every connection, later ones included ('reset' then refuses
 * new connections: the server as good as stopped).
 */
import net from 'node:net';

export interface FaultProxyOptions {
  target: { host: string; port: number };
  fault: 'stall' | 'reset';
  scope: 'copy' | 'all';
  afterBytes: number;
}

export interface FaultProxy {
  /** `url` with the proxy's host and port. */
  urlFor(url: string): string;
  /** Resolves when the fault has been applied. */
  faulted: Promise<void>;
  /** Closes the proxy and every socket it holds (the server's sessions then end). */
  close(): Promise<void>;
}

const COPY_FROM_STDIN = /COPY\s[\s\S]*FROM\s+STDIN/i;

export async function faultProxy(o: FaultProxyOptions): Promise<FaultProxy> {
  const sockets = new Set<net.Socket>();
  const pairs = new Set<{ client: net.Socket; server: net.Socket; stalled: boolean }>();
  let everything = false; // scope 'all' after the fault
  let markFaulted = () => {};
  const faulted = new Promise<void>((r) => {
    markFaulted = r;
  });
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on('error', () => undefined); // resets and destroys are the point here
    s.on('close', () => sockets.delete(s));
  };
  const stall = (p: { client: net.Socket; server: net.Socket; stalled: boolean }) => {
    p.stalled = true;
    p.client.pause();
    p.server.pause();
  };
  const reset = (p: { client: net.Socket; server: net.Socket }) => {
    p.client.resetAndDestroy();
    p.server.destroy();
  };
  const server = net.createServer((client) => {
    track(client);
    const upstream = net.connect(o.target.port, o.target.host);
    track(upstream);
    const pair = { client, server: upstream, stalled: false };
    pairs.add(pair);
    if (everything) {
      if (o.fault === 'stall') stall(pair);
      else reset(pair);
      return;
    }
    let copyBytes = -1; // counting once a COPY FROM STDIN went by
    client.on('data', (chunk: Buffer) => {
      if (pair.stalled) return;
      if (copyBytes < 0 && COPY_FROM_STDIN.test(chunk.toString('latin1'))) copyBytes = 0;
      else if (copyBytes >= 0) copyBytes += chunk.length;
      if (copyBytes >= o.afterBytes) {
        const hit = o.scope === 'all' ? [...pairs] : [pair];
        if (o.scope === 'all') everything = true;
        for (const p of hit) {
          if (o.fault === 'stall') stall(p);
          else reset(p);
        }
        if (o.fault === 'reset' && o.scope === 'all') server.close();
        markFaulted();
        return;
      }
      if (!upstream.write(chunk)) {
        client.pause();
        upstream.once('drain', () => {
          if (!pair.stalled) client.resume();
        });
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      if (pair.stalled) return;
      if (!client.write(chunk)) {
        upstream.pause();
        client.once('drain', () => {
          if (!pair.stalled) upstream.resume();
        });
      }
    });
    // Ends pass through, except from a stalled connection: a hung path passes nothing on.
    client.on('close', () => {
      if (!pair.stalled) upstream.destroy();
    });
    upstream.on('close', () => {
      if (!pair.stalled) client.destroy();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  return {
    urlFor(url: string) {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    faulted,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
