// The plugin server's side of a local model worker: batches the texts that arrive while the model is busy.
import { Worker } from 'node:worker_threads';
import path from 'node:path';
import type { Embedder } from './embedder';
import type { LocalModelSettings, WorkerReply } from './local-model-worker';

/** Texts per inference call: large enough to amortise a call, small enough to keep each one short. */
const MAX_BATCH = 32;

/** Texts waiting at most: past it, callers are refused at once rather than queued behind seconds of work. */
const MAX_QUEUE = 1024;

/** A batch that takes longer than this means a hung model: the worker is ended and later recreated. */
const BATCH_WATCHDOG_MS = 30_000;

interface Waiting {
  text: string;
  /** Past this time (ms) nobody waits for the vector any more: it is dropped before inference. */
  deadline: number;
  resolve: (vector: Float32Array) => void;
  reject: (error: Error) => void;
}

export class LocalEmbedder implements Embedder {
  private readonly worker: Worker;
  private readonly ready: Promise<number>;
  private readonly queue: Waiting[] = [];
  private inFlight: { id: number; batch: Waiting[]; watchdog: NodeJS.Timeout } | null = null;
  private nextId = 0;
  private failure: Error | null = null;
  /** When the model failed (load error, crash, hang); the registry replaces a failed embedder after a while. */
  failedAt: number | null = null;

  constructor(
    readonly name: string,
    settings: LocalModelSettings,
  ) {
    this.worker = new Worker(path.join(__dirname, 'local-model-worker.js'), { workerData: settings });
    // An idle worker never keeps the process alive; it is ref'd while texts wait (see pump).
    this.worker.unref();
    this.ready = new Promise<number>((resolve, reject) => {
      const onMessage = (reply: WorkerReply) => {
        if (reply.type === 'ready') resolve(reply.dimensions);
        else if (reply.type === 'failed') this.fail(new Error(reply.message), reject);
        else this.settleBatch(reply);
      };
      this.worker.on('message', onMessage);
      this.worker.on('error', (error) => this.fail(error, reject));
      this.worker.on('exit', (code) => this.fail(new Error(`the embedding worker exited (code ${code})`), reject));
    });
    // Observed here so a model that fails to load is not an unhandled rejection; callers see it on embed.
    this.ready.catch(() => {});
  }

  /** Resolves with the vector size once the model is loaded; rejects with the reason it cannot be. */
  whenReady(): Promise<number> {
    return this.ready;
  }

  embed(texts: string[], timeoutMs = BATCH_WATCHDOG_MS): Promise<Float32Array[]> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.queue.length + texts.length > MAX_QUEUE) return Promise.reject(new Error(`the embedding queue is full (${MAX_QUEUE} texts waiting)`));
    const deadline = Date.now() + timeoutMs;
    return Promise.all(
      texts.map(
        (text) =>
          new Promise<Float32Array>((resolve, reject) => {
            this.queue.push({ text, deadline, resolve, reject });
            this.pump();
          }),
      ),
    );
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private pump(): void {
    if (this.inFlight !== null || this.queue.length === 0) {
      if (this.inFlight === null) this.worker.unref();
      return;
    }
    // Texts whose callers gave up are not embedded: under overload the model works only for those still waiting.
    const now = Date.now();
    const expired = this.queue.filter((waiting) => waiting.deadline <= now);
    if (expired.length > 0) {
      this.queue.splice(0, this.queue.length, ...this.queue.filter((waiting) => waiting.deadline > now));
      for (const waiting of expired) waiting.reject(new Error('embedding timed out in the queue'));
      if (this.queue.length === 0) return this.worker.unref();
    }
    this.worker.ref();
    const batch = this.queue.splice(0, MAX_BATCH);
    const id = (this.nextId += 1);
    const watchdog = setTimeout(() => void this.worker.terminate(), BATCH_WATCHDOG_MS);
    watchdog.unref();
    this.inFlight = { id, batch, watchdog };
    this.ready.then(
      () => this.worker.postMessage({ id, texts: batch.map((waiting) => waiting.text) }),
      () => {},
    );
  }

  private settleBatch(reply: Extract<WorkerReply, { type: 'result' | 'error' }>): void {
    const inFlight = this.inFlight;
    if (inFlight === null || inFlight.id !== reply.id) return;
    clearTimeout(inFlight.watchdog);
    this.inFlight = null;
    inFlight.batch.forEach((waiting, index) => {
      if (reply.type === 'result') waiting.resolve(reply.vectors[index]!);
      else waiting.reject(new Error(`embedding failed: ${reply.message}`));
    });
    this.pump();
  }

  /** The model cannot serve: every waiting and later text fails with the reason. */
  private fail(error: Error, rejectReady: (error: Error) => void): void {
    if (this.failure) return;
    this.failure = error;
    this.failedAt = Date.now();
    if (this.inFlight) clearTimeout(this.inFlight.watchdog);
    rejectReady(error);
    const waiting = [...(this.inFlight?.batch ?? []), ...this.queue.splice(0)];
    this.inFlight = null;
    for (const entry of waiting) entry.reject(error);
    this.worker.unref();
  }
}
