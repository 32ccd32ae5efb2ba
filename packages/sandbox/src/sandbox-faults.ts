import type { ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { SandboxHttpError } from './sandbox-http.js';
import type { SandboxState } from './sandbox-state.js';

export interface FaultShape {
  /** Headers the platform sends with a 429, given the reset time in epoch seconds. */
  rateLimitHeaders: (resetEpochSeconds: number, resetSeconds: number) => Record<string, string>;
  rateLimitBody: unknown;
  serverErrorBody: (status: number) => unknown;
}

/**
 * Applies the platform's armed fault to a write. Returns `true` when the caller must drop the
 * connection after recording the write (the "did it land?" case).
 */
export async function applyWriteFault(options: { state: SandboxState; platform: string; shape: FaultShape }): Promise<boolean> {
  const fault = options.state.takeFault(options.platform);
  if (!fault) return false;
  switch (fault.kind) {
    case 'rate_limit': {
      const resetSeconds = fault.resetSeconds ?? 60;
      const reset = Math.ceil(options.state.now() / 1000) + resetSeconds;
      throw new SandboxHttpError({ status: 429, body: options.shape.rateLimitBody, headers: options.shape.rateLimitHeaders(reset, resetSeconds) });
    }
    case 'server_error': {
      const status = fault.status ?? 503;
      throw new SandboxHttpError({ status, body: options.shape.serverErrorBody(status) });
    }
    case 'slow':
      await delay(fault.delayMs);
      return false;
    case 'drop_after_record':
      return true;
  }
}

export function dropConnection(response: ServerResponse): void {
  response.socket?.destroy();
}
