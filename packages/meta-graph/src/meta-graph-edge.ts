import { LetmepostError } from '@letmepost/core';
import type { z } from 'zod';
import { graphEdgePageSchema } from './meta-graph-api.js';
import type { GraphHttpClient } from './meta-graph-http.js';

export interface ListGraphEdgeOptions<ITEM extends z.ZodType> {
  http: GraphHttpClient;
  /** `me/accounts`, `{business-id}/owned_pages`. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  accessToken: string;
  appSecretProof?: string;
  item: ITEM;
  /** Stops after this many pages (a user with thousands of Pages); default 20. */
  maxPages?: number;
  signal?: AbortSignal;
}

/**
 * Reads every page of a Graph edge (`data[]` + `paging.next`). `paging.next` is followed only on
 * the client's own host, with the token re-attached by the client (never taken from the link).
 */
export async function listGraphEdge<ITEM extends z.ZodType>(options: ListGraphEdgeOptions<ITEM>): Promise<Array<z.output<ITEM>>> {
  const { http, item } = options;
  const schema = graphEdgePageSchema(item);
  const maxPages = options.maxPages ?? 20;
  const items: Array<z.output<ITEM>> = [];
  let path = options.path;
  let query = options.query;
  for (let page = 0; page < maxPages; page += 1) {
    const { value } = await http.json({
      method: 'GET',
      path,
      ...(query !== undefined && { query }),
      accessToken: options.accessToken,
      ...(options.appSecretProof !== undefined && { appSecretProof: options.appSecretProof }),
      ...(options.signal !== undefined && { signal: options.signal }),
      schema,
    });
    items.push(...(value.data as Array<z.output<ITEM>>));
    const next = value.paging?.next;
    if (next === undefined || value.data.length === 0) return items;
    const nextUrl = new URL(next);
    if (nextUrl.origin !== new URL(http.baseUrl).origin) {
      throw new LetmepostError({ code: 'platform_unavailable', message: `Graph pointed the next page of ${options.path} to another host.`, platform: http.platform });
    }
    // The link repeats the token; the client adds it (and the proof) itself, masked in errors.
    nextUrl.searchParams.delete('access_token');
    nextUrl.searchParams.delete('appsecret_proof');
    path = nextUrl.toString();
    query = undefined;
  }
  return items;
}

/**
 * A `{ "success": false }` answer (a delete or a Reels finish Graph did not carry out) as the
 * typed refusal it is; `{ "success": true }` passes.
 */
export function assertGraphSuccess(options: { platform: GraphHttpClient['platform']; answer: { success: boolean }; action: string }): void {
  if (options.answer.success) return;
  throw new LetmepostError({
    code: 'platform_rejected',
    message: `The platform answered success: false to ${options.action}.`,
    platform: options.platform,
    platformResponse: { body: options.answer },
  });
}
