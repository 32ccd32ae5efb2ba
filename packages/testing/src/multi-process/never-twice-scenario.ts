import { randomBytes } from 'node:crypto';
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createLetmepost, type AnyProvider, type PublishOptions, type PublishResult } from '@letmepost/core';
import { appendStderr, createWorkerGroup, deadline } from './child-processes.js';
import { loadStore, type StoreModuleReference } from './store-module.js';

/** A named export of an ES module that every process can import (a provider factory). */
export interface ModuleExportReference {
  /** An ES module URL or absolute path, e.g. `import.meta.resolve('@letmepost/provider-instagram')`. */
  module: string;
  /** The export to call, e.g. `createInstagram`. */
  export: string;
}

export interface NeverTwiceScenarioOptions {
  store: StoreModuleReference;
  /** The provider under test, built in each process from JSON settings pointed at the test's platform. */
  provider: ModuleExportReference & { settings: Record<string, unknown> };
  /**
   * Resolves when the test's platform answers the create that must never happen twice
   * (Instagram's `media_publish`, X's `POST /2/tweets`): the parent kills the publishing process
   * at that instant, before it can record the outcome. Resolve it in the same tick as the answer
   * is written (not on the response's 'finish'), or a fast process may record it first.
   */
  createAnswered: () => Promise<void>;
  /** How many of those creates the platform has accepted so far. */
  createCount: () => number;
  /** The publish to make, retry and compare; it must carry an `idempotencyKey`. */
  publish: Omit<PublishOptions, 'signal' | 'onProgress' | 'idempotencyKey'> & { idempotencyKey: string };
  /**
   * For a control run only: retry under another key, which must show the duplicate the key
   * prevents (proving the scenario can see one).
   */
  retryIdempotencyKey?: string;
  /** Default 60 000 ms. */
  timeoutMs?: number;
}

export interface NeverTwiceScenarioReport {
  /** Creates the platform accepted before the process was killed (1 when the scenario ran as meant). */
  createsBeforeKill: number;
  /** Creates the platform accepted during the retry: anything but 0 is a duplicate post. */
  createsDuringRetry: number;
  /** How the publishing process ended (`SIGKILL`). */
  killedBy: string | null;
  /** What the retry with the same idempotency key returned. */
  retryResults: PublishResult[];
}

/** @internal The child's config; JSON and structured-clone safe. */
export interface NeverTwiceWorkerConfig {
  store: StoreModuleReference;
  provider: ModuleExportReference & { settings: Record<string, unknown> };
  encryptionKey: string;
  baseUrl: string;
  publish: NeverTwiceScenarioOptions['publish'];
}

const BASE_URL = 'https://app.example';
/**
 * A retry made this long after the crash: past core's two minutes without a heartbeat, after which
 * a claim whose process died is completed as `unknown` instead of being waited for.
 */
const RETRY_AFTER_MS = 3 * 60_000;

export async function loadModuleExport<T>(reference: ModuleExportReference): Promise<T> {
  const specifier = isAbsolute(reference.module) ? pathToFileURL(reference.module).href : reference.module;
  const module = (await import(specifier)) as Record<string, unknown>;
  const value = module[reference.export];
  if (typeof value !== 'function') throw new Error(`${reference.module} does not export a function named ${reference.export}.`);
  return value as T;
}

/**
 * "Never twice", with a real crash: a child process publishes with an idempotency key and is
 * SIGKILLed the moment the platform has answered the create, before it can write the outcome.
 * The same publish is then retried (same key, same store) from this process, as a host's job
 * runner would after the crash, with a clock three minutes later. The report says how many
 * creates each phase made; a correct provider + core make zero during the retry and answer the
 * stored outcome or `unknown`.
 */
export async function runNeverTwiceScenario(options: NeverTwiceScenarioOptions): Promise<NeverTwiceScenarioReport> {
  const group = createWorkerGroup();
  const timeout = deadline(options.timeoutMs ?? 60_000, group.describeStderr);
  const within = <T>(promise: Promise<T>): Promise<T> => Promise.race([promise, timeout.promise]);
  const encryptionKey = randomBytes(32).toString('base64');
  const store = await loadStore(options.store);
  try {
    const worker = group.start<NeverTwiceWorkerConfig, { results: unknown[] }>({
      workerUrl: new URL('./never-twice-worker.js', import.meta.url),
      config: { store: options.store, provider: options.provider, encryptionKey, baseUrl: BASE_URL, publish: options.publish },
    });
    await within(worker.ready);
    const answered = options.createAnswered();
    worker.go();
    await within(answered);
    worker.child.kill('SIGKILL');
    await within(worker.exited);
    const createsBeforeKill = options.createCount();

    const factory = await loadModuleExport<(settings: Record<string, unknown>) => AnyProvider>(options.provider);
    const letmepost = createLetmepost({
      providers: [factory(options.provider.settings)],
      store,
      encryptionKey,
      baseUrl: BASE_URL,
      clock: { now: () => Date.now() + RETRY_AFTER_MS },
    });
    const retryResults = await within(
      letmepost.publish({ ...options.publish, idempotencyKey: options.retryIdempotencyKey ?? options.publish.idempotencyKey }),
    );
    return {
      createsBeforeKill,
      createsDuringRetry: options.createCount() - createsBeforeKill,
      killedBy: worker.child.signalCode,
      retryResults,
    };
  } catch (error) {
    group.killAll();
    throw appendStderr(error, group);
  } finally {
    timeout.clear();
    group.killAll();
    await store.close?.();
  }
}
