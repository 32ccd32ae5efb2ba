import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Messages a worker sends to its parent. */
export type WorkerMessage<RESULT> =
  | { type: 'ready' }
  | { type: 'result'; result: RESULT }
  | { type: 'failed'; error: { name: string; code?: string; message: string; stack?: string } };

/** One forked worker process, driven by the parent. */
export interface WorkerHandle<RESULT> {
  index: number;
  child: ChildProcess;
  /** Resolves once the worker has prepared (store open) and waits for `go()`. */
  ready: Promise<void>;
  /** The worker's result; rejects when it fails or exits without one. */
  done: Promise<RESULT>;
  /** Releases the worker from its start barrier. */
  go(): void;
  /** What the worker wrote to stderr so far (bounded). */
  stderr(): string;
  /** Resolves when the process has exited, however it ended. */
  exited: Promise<void>;
}

/**
 * Tracks every worker a scenario forks, so that whatever happens (an assertion failing, a
 * timeout) `killAll()` leaves no process behind.
 */
export interface WorkerGroup {
  start<CONFIG, RESULT>(options: { workerUrl: URL; config: CONFIG }): WorkerHandle<RESULT>;
  killAll(): void;
  /** stderr of every worker that wrote any, for failure messages. */
  describeStderr(): string;
}

export function createWorkerGroup(): WorkerGroup {
  const handles: Array<WorkerHandle<unknown>> = [];
  return {
    start<CONFIG, RESULT>({ workerUrl, config }: { workerUrl: URL; config: CONFIG }): WorkerHandle<RESULT> {
      const handle = startWorker<CONFIG, RESULT>({ workerUrl, index: handles.length, config });
      handles.push(handle as WorkerHandle<unknown>);
      return handle;
    },
    killAll() {
      for (const handle of handles) {
        if (handle.child.exitCode === null && handle.child.signalCode === null) handle.child.kill('SIGKILL');
      }
    },
    describeStderr: () => describeStderr(handles.map((handle) => ({ index: handle.index, stderr: handle.stderr() }))),
  };
}

/** Rejects after `timeoutMs` with `describe()` appended; `clear()` stops the timer. */
export function deadline(timeoutMs: number, describe: () => string): { promise: Promise<never>; clear(): void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`The scenario did not finish within ${timeoutMs} ms.${describe()}`)), timeoutMs);
  });
  // Observed so an abandoned deadline is never an unhandled rejection.
  promise.catch(() => {});
  return { promise, clear: () => clearTimeout(timer) };
}

/**
 * Forks `count` Node processes running `workerUrl`, hands each its `config`, waits until every one
 * reports ready (store created, connections open) and only then tells them all to start, so the
 * work really overlaps. Resolves with each worker's result in fork order. A worker that fails,
 * exits early or outlives `timeoutMs` fails the whole run, and every child is killed on the way
 * out so no process is left behind.
 */
export async function runWorkers<CONFIG, RESULT>({
  workerUrl,
  count,
  config,
  timeoutMs,
}: {
  workerUrl: URL;
  count: number;
  config: (index: number) => CONFIG;
  timeoutMs: number;
}): Promise<RESULT[]> {
  const group = createWorkerGroup();
  const timeout = deadline(timeoutMs, group.describeStderr);
  try {
    const workers = Array.from({ length: count }, (_, index) => group.start<CONFIG, RESULT>({ workerUrl, config: config(index) }));
    await Promise.race([Promise.all(workers.map((worker) => worker.ready)), timeout.promise]);
    for (const worker of workers) worker.go();
    return await Promise.race([Promise.all(workers.map((worker) => worker.done)), timeout.promise]);
  } catch (error) {
    group.killAll();
    throw appendStderr(error, group);
  } finally {
    timeout.clear();
    group.killAll();
  }
}

/** Adds the workers' stderr to a failure, once. */
export function appendStderr(error: unknown, group: WorkerGroup): unknown {
  const stderr = group.describeStderr();
  if (!(error instanceof Error) || stderr === '' || error.message.includes('stderr ---')) return error;
  error.message = `${error.message}${stderr}`;
  return error;
}

export function startWorker<CONFIG, RESULT>({
  workerUrl,
  index,
  config,
}: {
  workerUrl: URL;
  index: number;
  config: CONFIG;
}): WorkerHandle<RESULT> {
  const child = fork(fileURLToPath(workerUrl), [], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    serialization: 'advanced',
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    // Bounded: a runaway worker must not exhaust the parent's memory.
    if (stderr.length < 20_000) stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  let settled = false;
  let resolveReady!: () => void;
  let rejectReady!: (error: Error) => void;
  let resolveDone!: (result: RESULT) => void;
  let rejectDone!: (error: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  const done = new Promise<RESULT>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  // Observed here so a worker that fails before anyone awaits it is not an unhandled rejection.
  ready.catch(() => {});
  done.catch(() => {});

  const fail = (error: Error): void => {
    if (settled) return;
    settled = true;
    rejectReady(error);
    rejectDone(error);
  };
  child.on('message', (message: WorkerMessage<RESULT>) => {
    if (message.type === 'ready') resolveReady();
    else if (message.type === 'result') {
      settled = true;
      resolveReady();
      resolveDone(message.result);
    } else if (message.type === 'failed') {
      const error = new Error(`Worker ${index} failed: ${message.error.code ? `[${message.error.code}] ` : ''}${message.error.message}`);
      if (message.error.stack !== undefined) error.stack = `${error.message}\n--- worker stack ---\n${message.error.stack}`;
      fail(error);
    }
  });
  child.on('error', (error) => fail(error));
  child.on('exit', (code, signal) => {
    fail(new Error(`Worker ${index} exited (${signal ?? `code ${code}`}) before reporting a result.`));
  });
  child.send({ type: 'start', index, config });

  return {
    index,
    child,
    ready,
    done,
    exited,
    go: () => {
      if (child.connected) child.send({ type: 'go' });
    },
    stderr: () => stderr,
  };
}

function describeStderr(workers: ReadonlyArray<{ index: number; stderr: string }>): string {
  const parts = workers.filter((worker) => worker.stderr.trim() !== '').map((worker) => `--- worker ${worker.index} stderr ---\n${worker.stderr.trim()}`);
  return parts.length === 0 ? '' : `\n${parts.join('\n')}`;
}

/**
 * The worker side: waits for its config and the start signal, runs `work`, reports the result or
 * the error, and exits. `prepare` runs before the barrier (open connections, seed nothing shared).
 */
export function serveWorker<CONFIG, PREPARED, RESULT>({
  prepare,
  work,
}: {
  prepare: (config: CONFIG, index: number) => Promise<PREPARED>;
  work: (prepared: PREPARED, config: CONFIG, index: number) => Promise<RESULT>;
}): void {
  const send = (message: WorkerMessage<RESULT>): Promise<void> =>
    new Promise((resolve) => {
      if (process.send === undefined) resolve();
      else process.send(message, undefined, undefined, () => resolve());
    });
  const fail = async (error: unknown): Promise<never> => {
    const details = error as { name?: unknown; code?: unknown; message?: unknown; stack?: unknown };
    await send({
      type: 'failed',
      error: {
        name: typeof details?.name === 'string' ? details.name : 'Error',
        ...(typeof details?.code === 'string' ? { code: details.code } : {}),
        message: typeof details?.message === 'string' ? details.message : String(error),
        ...(typeof details?.stack === 'string' ? { stack: details.stack } : {}),
      },
    });
    process.exit(1);
  };

  process.once('message', (start: { type: 'start'; index: number; config: CONFIG }) => {
    void (async () => {
      const prepared = await prepare(start.config, start.index);
      await new Promise<void>((resolve) => {
        process.once('message', () => resolve());
        void send({ type: 'ready' });
      });
      const result = await work(prepared, start.config, start.index);
      await send({ type: 'result', result });
      process.exit(0);
    })().catch(fail);
  });
  // The parent going away must not leave this process running.
  process.on('disconnect', () => process.exit(2));
}
