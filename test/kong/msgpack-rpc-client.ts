// Kong's side of the msgpack-RPC link to a plugin server (kong/runloop/plugin_servers/rpc/mp_rpc.lua).
import net from 'node:net';
import { Decoder, Encoder } from '@msgpack/msgpack';

export class RpcError extends Error {}

/**
 * Like Kong: each call takes a connection from a keep-alive pool, sends one request
 * `[0, msgid, method, [params]]`, reads one reply `[1, msgid, error, result]`, and returns the
 * connection to the pool. So one request is in flight per connection, and the calls of one
 * event may use different connections.
 */
export class MsgpackRpcClient {
  private readonly idle: net.Socket[] = [];
  private readonly all = new Set<net.Socket>();
  private nextMessageId = 1;
  /** Calls made so far (the benchmark reports round trips per request). */
  calls = 0;
  private readonly encoder = new Encoder();

  constructor(
    readonly socketPath: string,
    private readonly timeoutMs = 60_000,
  ) {}

  async call(method: string, params: unknown): Promise<unknown> {
    this.calls += 1;
    const socket = this.idle.pop() ?? (await this.connect());
    const messageId = this.nextMessageId++;
    try {
      const reply = await this.exchange(socket, [0, messageId, method, [params]]);
      if (!Array.isArray(reply) || reply[0] !== 1) throw new RpcError('RPC response expected from Go plugin server');
      if (reply[1] !== messageId) throw new RpcError(`unexpected RPC response ID ${String(reply[1])}, expected ${messageId}`);
      this.idle.push(socket);
      if (reply[2] !== null && reply[2] !== undefined) throw new RpcError(String(reply[2]));
      return reply[3];
    } catch (error) {
      if (!(error instanceof RpcError) || !this.idle.includes(socket)) this.drop(socket);
      throw error instanceof RpcError ? error : new RpcError(`no data: ${(error as Error).message}`);
    }
  }

  close(): void {
    for (const socket of this.all) socket.destroy();
    this.all.clear();
    this.idle.length = 0;
  }

  private connect(): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection(this.socketPath);
      socket.once('connect', () => {
        socket.removeListener('error', reject);
        // A pooled connection the server closed leaves the pool at once (Kong's cosocket pool does the same).
        socket.on('error', () => this.drop(socket));
        socket.on('close', () => this.drop(socket));
        this.all.add(socket);
        resolve(socket);
      });
      socket.once('error', reject);
    });
  }

  private exchange(socket: net.Socket, message: unknown[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (socket.destroyed) return reject(new Error('connection closed'));
      const chunks: Buffer[] = [];
      const timer = setTimeout(() => finish(new Error('timeout')), this.timeoutMs);
      const onData = (chunk: Buffer) => {
        chunks.push(chunk);
        try {
          // A fresh decoder per reply, as Kong uses a fresh unpacker per call.
          finish(null, new Decoder().decode(Buffer.concat(chunks)));
        } catch (error) {
          if (!(error instanceof RangeError)) finish(error as Error); // RangeError: reply not complete yet
        }
      };
      const onEnd = () => finish(new Error('connection closed'));
      const finish = (error: Error | null, value?: unknown) => {
        clearTimeout(timer);
        socket.off('data', onData);
        socket.off('close', onEnd);
        socket.off('error', onEnd);
        if (error) reject(error);
        else resolve(value);
      };
      socket.on('data', onData);
      socket.once('close', onEnd);
      socket.once('error', onEnd);
      socket.write(this.encoder.encode(message));
    });
  }

  private drop(socket: net.Socket): void {
    socket.destroy();
    this.all.delete(socket);
    const index = this.idle.indexOf(socket);
    if (index !== -1) this.idle.splice(index, 1);
  }
}
