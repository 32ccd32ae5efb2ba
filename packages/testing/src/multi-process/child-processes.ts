import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Messages a worker sends to its parent. */
export type WorkerMessage<RESULT> =
  | { type: 'ready' }
  | { type: 'result'; result: RESULT }
  | { type: 'failed'; error: { name: string; code?: string; message: string; stack?: string } };

interface RunningWorker<RESULT> {
  child: ChildProcess;
  index: number;
  stderr: string;
  ready: Promise<void>;
  done: Promise<RESULT>;
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
  const workers: Array<RunningWorker<RESULT>> = [];
  const killAll = (): void => {
    for (const worker of workers) if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
  };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Worker processes did not finish within ${timeoutMs} ms.${describeStderr(workers)}`)), timeoutMs);
  });

  try {
    for (let index = 0; index < count; index++) workers.push(startWorker<CONFIG, RESULT>({ workerUrl, index, config: config(index) }));
    await Promise.race([Promise.all(workers.map((worker) => worker.ready)), timeout]);
    for (const worker of workers) worker.child.send({ type: 'go' });
    return await Promise.race([Promise.all(workers.map((worker) => worker.done)), timeout]);
  } catch (error) {
    killAll();
    throw error instanceof Error && workers.length > 0 && !error.message.includes('stderr')
      ? Object.assign(error, { message: `${error.message}${describeStderr(workers)}` })
      : error;
  } finally {
    clearTimeout(timer);
    killAll();
  }
}

function startWorker<CONFIG, RESULT>({ workerUrl, index, config }: { workerUrl: URL; index: number; config: CONFIG }): RunningWorker<RESULT> {
  const child = fork(fileURLToPath(workerUrl), [], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    serialization: 'advanced',
  });
  const worker = { child, index, stderr: '' } as RunningWorker<RESULT>;
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    // Bounded: a runaway worker must not exhaust the parent's memory.
    if (worker.stderr.length < 20_000) worker.stderr += chunk;
  });

  let settled = false;
  worker.ready = new Promise<void>((resolveReady, rejectReady) => {
    worker.done = new Promise<RESULT>((resolveDone, rejectDone) => {
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
    });
  });
  // Observed here so a worker that fails before the barrier is not an unhandled rejection.
  worker.done.catch(() => {});
  child.send({ type: 'start', index, config });
  return worker;
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
