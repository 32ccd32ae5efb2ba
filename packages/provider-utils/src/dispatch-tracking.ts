import type { Dispatcher } from 'undici';

/** Whether undici began writing a request to a socket: before that, nothing can have been sent. */
export interface DispatchState {
  started: boolean;
}

/**
 * Wraps a dispatcher so that the request's handler reports when undici starts writing it
 * (`onRequestStart` runs on a connected socket, right before the request line is written).
 * That is what separates "never sent, safe to repeat" from "may have reached the platform".
 */
export function trackDispatch(options: { dispatcher: Dispatcher; state: DispatchState }): Dispatcher {
  const { state } = options;
  return options.dispatcher.compose(
    (dispatch) => (dispatchOptions, handler) => dispatch(dispatchOptions, new TrackingHandler(handler, state)),
  );
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
