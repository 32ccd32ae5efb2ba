import { Dispatcher } from 'undici';

/** Whether undici began writing a request to a socket: before that, nothing can have been sent. */
export interface DispatchState {
  started: boolean;
}

const trackingDispatchers = new WeakMap<Dispatcher, Dispatcher>();

/**
 * A dispatcher that reports, per request, when undici starts writing it (`onRequestStart` runs on
 * a connected socket, right before the request line is written). That is what separates "never
 * sent, safe to repeat" from "may have reached the platform". One wrapper per dispatcher, cached:
 * the per-request state travels as the request's `opaque` value (see `withDispatchState`), which
 * undici passes through untouched.
 */
export function trackingDispatcher(dispatcher: Dispatcher): Dispatcher {
  let wrapper = trackingDispatchers.get(dispatcher);
  if (!wrapper) {
    wrapper = new TrackingDispatcher(dispatcher);
    trackingDispatchers.set(dispatcher, wrapper);
  }
  return wrapper;
}

/** Request options carrying the state the tracking dispatcher updates. */
export function withDispatchState<T extends object>(options: T, state: DispatchState): T & { opaque: DispatchState } {
  return Object.assign(options, { opaque: state });
}

function isDispatchState(value: unknown): value is DispatchState {
  return value !== null && typeof value === 'object' && dispatchStates.has(value);
}

const dispatchStates = new WeakSet<object>();

/** A fresh state for one attempt. */
export function createDispatchState(): DispatchState {
  const state: DispatchState = { started: false };
  dispatchStates.add(state);
  return state;
}

class TrackingDispatcher extends Dispatcher {
  constructor(private readonly inner: Dispatcher) {
    super();
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const state = (options as { opaque?: unknown }).opaque;
    return this.inner.dispatch(options, isDispatchState(state) ? new TrackingHandler(handler, state) : handler);
  }

  // The wrapped dispatcher belongs to someone else (or is the shared pool): closing or destroying
  // it through this view would affect every other user, so these only resolve.
  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    if (callback) queueMicrotask(callback);
    else return Promise.resolve();
  }

  override destroy(): Promise<void>;
  override destroy(error: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(error: Error | null, callback: () => void): void;
  override destroy(...args: unknown[]): Promise<void> | void {
    const callback = args.find((arg): arg is () => void => typeof arg === 'function');
    if (callback) queueMicrotask(callback);
    else return Promise.resolve();
  }
}

class TrackingHandler implements Dispatcher.DispatchHandler {
  constructor(
    private readonly handler: Dispatcher.DispatchHandler,
    private readonly state: DispatchState,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.handler.onRequestStart?.(controller, context);
    // The request handler aborts here when its signal already fired; then nothing is written.
    if (!controller.aborted) this.state.started = true;
  }

  onRequestUpgrade(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Parameters<NonNullable<Dispatcher.DispatchHandler['onRequestUpgrade']>>[2],
    socket: Parameters<NonNullable<Dispatcher.DispatchHandler['onRequestUpgrade']>>[3],
  ): void {
    this.handler.onRequestUpgrade?.(controller, statusCode, headers, socket);
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Parameters<NonNullable<Dispatcher.DispatchHandler['onResponseStart']>>[2],
    statusMessage?: string,
  ): void {
    this.state.started = true;
    this.handler.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.handler.onResponseData?.(controller, chunk);
  }

  onResponseEnd(
    controller: Dispatcher.DispatchController,
    trailers: Parameters<NonNullable<Dispatcher.DispatchHandler['onResponseEnd']>>[1],
  ): void {
    this.handler.onResponseEnd?.(controller, trailers);
  }

  onResponseError(controller: Dispatcher.DispatchController, error: Error): void {
    this.handler.onResponseError?.(controller, error);
  }

  onBodySent(chunk: Buffer): void {
    this.handler.onBodySent?.(chunk);
  }

  onRequestSent(): void {
    this.handler.onRequestSent?.();
  }
}
