import { checkGraphRequest } from '@letmepost/meta-graph/contract';
import { expect } from 'vitest';
import type { RecordedGraphRequest } from './instagram-graph-mock.js';

/** What a Graph id in a recorded path stands for: Graph ids say nothing of their node type. */
export type InstagramNodeKind = 'user' | 'container' | 'media';

/**
 * The node description each Instagram Login call is checked against (Meta's node facts, kept by
 * `@letmepost/meta-graph/contract`): the "ForIGOnlyAPI" nodes where Meta describes the
 * graph.instagram.com variant, `IGUser` for `media_publish` (the IG-only node names that edge
 * `mediapublish`), `ShadowIGMediaBuilder` for containers.
 */
function nodeOf(options: { kind: InstagramNodeKind; method: string; edge: string | undefined }): string {
  if (options.kind === 'container') return 'ShadowIGMediaBuilder';
  if (options.kind === 'media') return 'IGMediaForIGOnlyAPI';
  return options.edge === 'media_publish' ? 'IGUser' : 'IGUserForIGOnlyAPI';
}

/**
 * Checks every recorded request against the node facts: parameter names, types, required flags,
 * enums and selected fields. Token endpoints (`access_token`, `refresh_access_token`) are not
 * Graph nodes and are left out.
 */
export function expectConformingRequests(options: { recorded: readonly RecordedGraphRequest[]; ids: Record<string, InstagramNodeKind> }): void {
  const problems: string[] = [];
  let checked = 0;
  for (const request of options.recorded) {
    const [id = '', edge] = request.path.split('/');
    if (id === 'access_token' || id === 'refresh_access_token') continue;
    const kind: InstagramNodeKind | undefined = id === 'me' ? 'user' : options.ids[id];
    if (kind === undefined) {
      problems.push(`${request.method} ${request.path}: no node kind given for ${id}`);
      continue;
    }
    checked += 1;
    problems.push(
      ...checkGraphRequest({
        node: nodeOf({ kind, method: request.method, edge }),
        method: request.method as 'GET' | 'POST' | 'DELETE',
        ...(edge !== undefined && { edge }),
        params: request.params,
      }),
    );
  }
  expect(problems).toEqual([]);
  expect(checked, 'at least one Graph request was checked').toBeGreaterThan(0);
}
