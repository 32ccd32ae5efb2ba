import { randomUUID } from 'node:crypto';
import {
  ERROR_DOCS_BASE_URL,
  LetmepostError,
  isPlatformId,
  redact,
  silentLogger,
  type Account,
  type AccountTarget,
  type AppCredentialsSummary,
  type ConnectCandidate,
  type ConnectSelection,
  type ErrorCode,
  type Logger,
  type Media,
  type Letmepost,
  type Post,
  type PostItem,
  type PublishResult,
  type PublishTarget,
} from '@letmepost/core';
import type { z } from 'zod';
import { camelToSnake, convertKeys, fieldPathToSnake, snakeToCamel } from './case-conversion.js';
import { HttpProblem } from './http-problem.js';
import { decodePathSegment, parseJsonBody, readBodyWithinCap } from './request-body.js';
import {
  chooseAccountsBody,
  createAccountBody,
  createConnectSessionBody,
  createPostBody,
  principalSchema,
  putPlatformCredentialsBody,
  refreshDueBody,
  resumePostBody,
  type CreatePostBody,
} from './rest-schemas.js';

/** The part of `createLetmepost()`'s result the REST layer drives. */
export type LetmepostApi = Pick<Letmepost, 'connect' | 'accounts' | 'appCredentials' | 'publish' | 'resume'>;

export interface RestHandlerOptions {
  letmepost: LetmepostApi;
  /**
   * Resolves the caller (e.g. from `Authorization: Bearer <key>`) to the workspace it acts for;
   * null → 401. Every route acts inside that workspace only, so a principal without a non-empty
   * `workspaceId` is refused (401, rule `rest.principal_without_workspace`) rather than let
   * through to accounts of every workspace.
   */
  authenticate: (request: Request) => Promise<{ workspaceId: string } | null> | { workspaceId: string } | null;
  /**
   * Who may run operator tasks (`POST /v1/maintenance/refresh-due`), decided apart from
   * `authenticate`: a workspace's API key must never refresh other workspaces' grants. Typically
   * a separate secret held by the host's scheduler. Absent: the maintenance routes do not exist
   * (404).
   */
  authorizeOperator?: (request: Request) => Promise<boolean> | boolean;
  /** Mount point when the handler is not at the origin root, e.g. `/api`. */
  basePath?: string;
  logger?: Logger;
  /** Largest accepted request body; media travels base64-encoded, so this bounds uploads too. */
  maxBodyBytes?: number;
}

const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  validation_failed: 422,
  preflight_failed: 422,
  app_credentials_missing: 422,
  plan_feature_not_available: 402,
  not_found: 404,
  rate_limited: 429,
  quota_exceeded: 429,
  launch_cap_reached: 429,
  state_invalid: 400,
  platform_auth_failed: 400,
  idempotency_conflict: 409,
  store_conflict: 409,
  reauth_required: 409,
  not_supported: 501,
  platform_unavailable: 502,
  store_unavailable: 503,
};

function json(options: { status: number; body: Record<string, unknown>; requestId: string; headers?: Record<string, string> }): Response {
  const headers = new Headers(options.headers);
  headers.set('content-type', 'application/json; charset=utf-8');
  headers.set('x-request-id', options.requestId);
  headers.set('cache-control', 'no-store');
  return new Response(JSON.stringify({ ...options.body, request_id: options.requestId }), { status: options.status, headers });
}

function errorResponse(options: { error: unknown; requestId: string; logger: Logger }): Response {
  const { error, requestId } = options;
  if (error instanceof HttpProblem) {
    return json({
      status: error.status,
      requestId,
      body: {
        error: {
          code: error.code,
          message: error.message,
          doc_url: `${ERROR_DOCS_BASE_URL}/${error.code}.md`,
          ...(error.rule !== undefined && { rule: error.rule }),
        },
      },
    });
  }
  if (LetmepostError.isInstance(error)) {
    const status = STATUS_BY_CODE[error.code] ?? (error.status && error.status >= 400 && error.status < 500 ? 422 : 500);
    const body: Record<string, unknown> = {
      code: error.code,
      message: error.message,
      doc_url: error.docUrl,
    };
    if (error.remediation) body.remediation = error.remediation;
    if (error.field) body.field = fieldPathToSnake(error.field);
    if (error.rule) body.rule = error.rule;
    if (error.platform) body.platform = error.platform;
    if (error.retryAfterMs !== undefined) body.retry_after_ms = error.retryAfterMs;
    if (error.issues.length > 0) {
      body.issues = error.issues.map((issue) => ({
        ...(issue.field ? { field: fieldPathToSnake(issue.field) } : {}),
        ...(issue.rule ? { rule: issue.rule } : {}),
        message: issue.message,
      }));
    }
    const headers: Record<string, string> = {};
    if (status === 429 && error.retryAfterMs !== undefined) {
      headers['retry-after'] = String(Math.ceil(error.retryAfterMs / 1000));
    }
    return json({ status, requestId, body: { error: body }, headers });
  }
  options.logger.log('error', 'unhandled error in REST handler', { requestId, error: redact(String(error)) });
  return json({
    status: 500,
    requestId,
    body: { error: { code: 'internal_error', message: 'Internal error', doc_url: `${ERROR_DOCS_BASE_URL}/internal_error.md` } },
  });
}

async function readJson<T>(options: { request: Request; schema: z.ZodType<T>; maxBodyBytes: number }): Promise<T> {
  const { request, schema, maxBodyBytes } = options;
  const contentType = request.headers.get('content-type') ?? '';
  if (!contentType.toLowerCase().startsWith('application/json')) {
    throw new HttpProblem(415, 'unsupported_media_type', 'Send the body as application/json');
  }
  const parsed = parseJsonBody({ bytes: await readBodyWithinCap({ request, maxBodyBytes }) });
  const result = schema.safeParse(parsed);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => ({
      field: issue.path.join('.') || 'body',
      message: issue.message,
    }));
    throw new LetmepostError({
      code: 'validation_failed',
      message: `Invalid request body: ${issues.map((issue) => `${issue.field}: ${issue.message}`).join('; ')}`,
      field: issues[0]?.field,
      issues,
    });
  }
  return result.data;
}

function toIso(value: number | Date | undefined): string | undefined {
  if (value === undefined) return undefined;
  return new Date(value).toISOString();
}

export function serializeAccount(account: Account): Record<string, unknown> {
  return {
    id: account.id,
    platform: account.platform,
    platform_account_id: account.platformAccountId,
    kind: account.kind,
    username: account.username,
    display_name: account.displayName,
    avatar_url: account.avatarUrl,
    profile_url: account.profileUrl,
    status: account.status,
    scopes: account.scopes,
    expires_at: toIso(account.expiresAt),
    reauth_by: toIso(account.reauthBy),
    created_at: toIso(account.createdAt),
    updated_at: toIso(account.updatedAt),
  };
}

function serializeCandidate(candidate: ConnectCandidate): Record<string, unknown> {
  return {
    platform: candidate.platform,
    platform_account_id: candidate.platformAccountId,
    kind: candidate.kind,
    username: candidate.username,
    display_name: candidate.displayName,
    avatar_url: candidate.avatarUrl,
    profile_url: candidate.profileUrl,
    existing_account_id: candidate.existingAccountId,
  };
}

function serializeSelection(selection: ConnectSelection): Record<string, unknown> {
  return {
    id: selection.selectionId,
    expires_at: toIso(selection.expiresAt),
    candidates: selection.candidates.map(serializeCandidate),
  };
}

/** `options` in the REST spelling: `POST /v1/posts` converts it back, so it round-trips. */
function serializeTarget(target: AccountTarget): Record<string, unknown> {
  return {
    id: target.id,
    name: target.name,
    kind: target.kind,
    options: convertKeys({ value: target.options, convert: camelToSnake }),
    details: target.details === undefined ? undefined : convertKeys({ value: target.details, convert: camelToSnake }),
  };
}

function serializeError(error: LetmepostError | undefined): Record<string, unknown> | undefined {
  if (!error) return undefined;
  return {
    code: error.code,
    message: error.message,
    doc_url: error.docUrl,
    ...(error.remediation ? { remediation: error.remediation } : {}),
    ...(error.rule ? { rule: error.rule } : {}),
    ...(error.retryAfterMs !== undefined ? { retry_after_ms: error.retryAfterMs } : {}),
  };
}

export function serializePublishResult(result: PublishResult): Record<string, unknown> {
  return {
    status: result.status,
    platform: result.platform,
    account_id: result.accountId,
    post_id: result.postId,
    url: result.url,
    items: result.items?.map((item) => ({
      index: item.index,
      status: item.status,
      post_id: item.postId,
      url: item.url,
      error: serializeError(item.error),
    })),
    warnings: result.warnings,
    error: serializeError(result.error),
    resume_token: result.resumeToken,
    check_after_ms: result.checkAfterMs,
    dry_run: result.dryRun,
  };
}

function toMedia(media: NonNullable<CreatePostBody['post']['media']>[number]): Media {
  const common = {
    mimeType: media.mime_type,
    ...(media.alt_text !== undefined ? { altText: media.alt_text } : {}),
    ...(media.file_name !== undefined ? { fileName: media.file_name } : {}),
    ...(media.width !== undefined ? { width: media.width } : {}),
    ...(media.height !== undefined ? { height: media.height } : {}),
  };
  if (media.url !== undefined) return { url: media.url, ...common };
  return { data: new Uint8Array(Buffer.from(media.data_base64 ?? '', 'base64')), ...common };
}

function toPostItem(item: { text: string; link?: string; media?: CreatePostBody['post']['media'] }): PostItem {
  return {
    text: item.text,
    ...(item.link !== undefined ? { link: item.link } : {}),
    ...(item.media !== undefined ? { media: item.media.map(toMedia) } : {}),
  };
}

function toPost(body: CreatePostBody['post']): Post {
  return {
    ...toPostItem(body),
    ...(body.thread !== undefined ? { thread: body.thread.map(toPostItem) } : {}),
    ...(body.reply_to !== undefined ? { replyTo: body.reply_to } : {}),
    ...(body.first_comment !== undefined ? { firstComment: body.first_comment } : {}),
  };
}

function toTarget(target: CreatePostBody['targets'][number]): PublishTarget {
  const options = target.options === undefined ? undefined : convertKeys({ value: target.options, convert: snakeToCamel });
  if ('account_id' in target) return { accountId: target.account_id, ...(options ? { options } : {}) };
  return {
    platform: target.platform,
    credentials: convertKeys({ value: target.credentials, convert: snakeToCamel }),
    ...(options ? { options } : {}),
  };
}

function serializeAppCredentials(item: AppCredentialsSummary): Record<string, unknown> {
  return { platform: item.platform, instance: item.instance, client_id: item.clientId, created_at: toIso(item.createdAt) };
}

/** Routes with a path parameter, as segments after `/v1`; `:` stands for the parameter. */
const PARAMETERIZED_ROUTES: readonly (readonly string[])[] = [
  ['platform-credentials', ':'],
  ['accounts', ':'],
  ['accounts', ':', 'targets'],
  ['connect', 'selections', ':'],
];

/** `accounts/acc_1/targets` → `accounts/:/targets`; anything else as it is. */
function routePattern(rest: readonly string[]): string {
  const match = PARAMETERIZED_ROUTES.find(
    (pattern) => pattern.length === rest.length && pattern.every((part, index) => part === ':' || part === rest[index]),
  );
  return (match ?? rest).join('/');
}

/**
 * The REST API of DESIGN section 8 as a Web-standard handler: `(Request) => Promise<Response>`.
 * Mount it in anything that speaks Fetch API requests (Hono, Next.js route handlers, Bun, Deno)
 * or, through `toNodeListener`, in Express, Fastify and `node:http`.
 */
export function createRestHandler(options: RestHandlerOptions): (request: Request) => Promise<Response> {
  const { letmepost } = options;
  const logger = options.logger ?? silentLogger;
  const basePath = (options.basePath ?? '').replace(/\/+$/, '');
  const maxBodyBytes = options.maxBodyBytes ?? 25 * 1024 * 1024;

  const requireWorkspace = async (request: Request): Promise<string> => {
    const principal = await options.authenticate(request);
    if (!principal) throw new HttpProblem(401, 'unauthenticated', 'Missing or invalid API key');
    const parsed = principalSchema.safeParse(principal);
    if (!parsed.success) {
      // Fail closed: core treats a missing workspace as "any workspace" for some reads, so a host
      // whose authenticate() forgot it would hand every tenant's accounts to every key.
      logger.log('error', 'letmepost.rest.principal_without_workspace', { requestId: request.headers.get('x-request-id') ?? undefined });
      throw new HttpProblem(
        401,
        'unauthenticated',
        'authenticate() resolved this caller without a workspaceId; the host must return { workspaceId } (or null to refuse).',
        'rest.principal_without_workspace',
      );
    }
    return parsed.data.workspaceId;
  };

  return async function handle(request: Request): Promise<Response> {
    const requestId = request.headers.get('x-request-id')?.slice(0, 128) || `req_${randomUUID()}`;
    try {
      const url = new URL(request.url);
      if (!url.pathname.startsWith(`${basePath}/v1/`)) throw new HttpProblem(404, 'not_found', 'No such route');
      const segments = url.pathname
        .slice(basePath.length)
        .split('/')
        .filter(Boolean)
        .map((segment) => decodePathSegment({ segment }));
      const method = request.method.toUpperCase();
      // Static routes match literally; a path parameter collapses to `:`.
      const route = `${method} /${routePattern(segments.slice(1))}`;
      const segment = (index: number): string => segments[index] ?? '';

      // The OAuth callback is reached by the user's browser coming back from the platform, so it
      // carries no API key: the single-use state parameter is what authenticates it.
      if (method === 'GET' && segment(1) === 'accounts' && segment(2) === 'oauth' && segment(4) === 'callback' && segments.length === 5) {
        const platform = segment(3);
        if (!isPlatformId(platform)) throw new HttpProblem(404, 'not_found', 'Unknown platform');
        const { accounts, returnTo, selection, skipped } = await letmepost.connect.completeSession({ platform, callbackUrl: request.url });
        if (returnTo) {
          const destination = new URL(returnTo);
          // A choice is made on the host's page: it reads the candidates with the selection id
          // (GET /v1/connect/selections/{id}, authenticated) and posts the user's choice back.
          if (selection !== undefined) destination.searchParams.set('selection', selection.selectionId);
          else destination.searchParams.set('connected', accounts.map((account) => account.id).join(','));
          return new Response(null, { status: 303, headers: { location: destination.toString(), 'x-request-id': requestId } });
        }
        return json({
          status: 200,
          requestId,
          body: {
            data: accounts.map(serializeAccount),
            ...(selection !== undefined && { selection: serializeSelection(selection) }),
            ...(skipped.length > 0 && {
              skipped: skipped.map((item) => ({
                platform: item.platform,
                platform_account_id: item.platformAccountId,
                display_name: item.displayName,
                reason: item.reason,
              })),
            }),
          },
        });
      }

      switch (route) {
        case 'POST /platform-credentials': {
          const workspaceId = await requireWorkspace(request);
          const body = await readJson({ request, schema: putPlatformCredentialsBody, maxBodyBytes });
          const stored = await letmepost.appCredentials.put({
            workspaceId,
            platform: body.platform,
            ...(body.instance !== undefined ? { instance: body.instance } : {}),
            clientId: body.client_id,
            clientSecret: body.client_secret,
          });
          return json({ status: 201, requestId, body: { data: serializeAppCredentials(stored) } });
        }
        case 'GET /platform-credentials': {
          const workspaceId = await requireWorkspace(request);
          const items = await letmepost.appCredentials.list({ workspaceId });
          return json({
            status: 200,
            requestId,
            body: {
              data: items.map(serializeAppCredentials),
              meta: { total: items.length, limit: items.length },
            },
          });
        }
        case 'DELETE /platform-credentials/:': {
          const workspaceId = await requireWorkspace(request);
          const platform = segment(2);
          if (!isPlatformId(platform)) throw new HttpProblem(404, 'not_found', 'Unknown platform');
          const instance = url.searchParams.get('instance') ?? undefined;
          await letmepost.appCredentials.remove({ workspaceId, platform, ...(instance !== undefined ? { instance } : {}) });
          return new Response(null, { status: 204, headers: { 'x-request-id': requestId } });
        }
        case 'POST /connect/sessions': {
          const workspaceId = await requireWorkspace(request);
          const body = await readJson({ request, schema: createConnectSessionBody, maxBodyBytes });
          const session = await letmepost.connect.start({
            workspaceId,
            platform: body.platform,
            ...(body.allow_quickstart_creds !== undefined ? { allowQuickstartCreds: body.allow_quickstart_creds } : {}),
            ...(body.scopes !== undefined ? { scopes: body.scopes } : {}),
            ...(body.return_to !== undefined ? { returnTo: body.return_to } : {}),
            ...(body.params !== undefined ? { params: convertKeys({ value: body.params, convert: snakeToCamel }) } : {}),
            ...(body.choose_accounts !== undefined ? { chooseAccounts: body.choose_accounts } : {}),
          });
          return json({
            status: 201,
            requestId,
            body: { url: String(session.url), session_id: session.sessionId, expires_at: toIso(session.expiresAt) },
          });
        }
        case 'POST /accounts': {
          const workspaceId = await requireWorkspace(request);
          const body = await readJson({ request, schema: createAccountBody, maxBodyBytes });
          const account = await letmepost.connect.withCredentials({
            workspaceId,
            platform: body.platform,
            credentials: convertKeys({ value: body.credentials, convert: snakeToCamel }),
          });
          return json({ status: 201, requestId, body: { data: serializeAccount(account) } });
        }
        case 'GET /accounts': {
          const workspaceId = await requireWorkspace(request);
          const accounts = await letmepost.accounts.list({ workspaceId });
          return json({
            status: 200,
            requestId,
            body: { data: accounts.map(serializeAccount), meta: { total: accounts.length, limit: accounts.length } },
          });
        }
        case 'GET /connect/selections/:': {
          const workspaceId = await requireWorkspace(request);
          const selection = await letmepost.connect.getSelection({ workspaceId, selectionId: segment(3) });
          return json({ status: 200, requestId, body: { data: serializeSelection(selection) } });
        }
        case 'POST /connect/selections/:': {
          const workspaceId = await requireWorkspace(request);
          const body = await readJson({ request, schema: chooseAccountsBody, maxBodyBytes });
          const accounts = await letmepost.connect.choose({
            workspaceId,
            selectionId: segment(3),
            platformAccountIds: body.platform_account_ids,
          });
          return json({ status: 201, requestId, body: { data: accounts.map(serializeAccount) } });
        }
        case 'GET /accounts/:/targets': {
          const workspaceId = await requireWorkspace(request);
          const cursor = url.searchParams.get('cursor') ?? undefined;
          const page = await letmepost.accounts.listTargets({
            workspaceId,
            accountId: segment(2),
            ...(cursor !== undefined ? { cursor } : {}),
          });
          return json({
            status: 200,
            requestId,
            body: { data: page.targets.map(serializeTarget), meta: { next_cursor: page.nextCursor ?? null } },
          });
        }
        case 'DELETE /accounts/:': {
          const workspaceId = await requireWorkspace(request);
          await letmepost.accounts.remove({ workspaceId, accountId: segment(2) });
          return new Response(null, { status: 204, headers: { 'x-request-id': requestId } });
        }
        case 'POST /posts': {
          const workspaceId = await requireWorkspace(request);
          const body = await readJson({ request, schema: createPostBody, maxBodyBytes });
          const idempotencyKey = request.headers.get('idempotency-key') ?? undefined;
          if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > 255)) {
            throw new LetmepostError({
              code: 'validation_failed',
              message: 'Idempotency-Key must be 1 to 255 characters',
              field: 'Idempotency-Key',
            });
          }
          const results = await letmepost.publish({
            workspaceId,
            post: toPost(body.post),
            targets: body.targets.map(toTarget),
            ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
            ...(body.dry_run !== undefined ? { dryRun: body.dry_run } : {}),
          });
          return json({ status: 200, requestId, body: { data: results.map(serializePublishResult) } });
        }
        case 'POST /posts/resume': {
          const workspaceId = await requireWorkspace(request);
          const body = await readJson({ request, schema: resumePostBody, maxBodyBytes });
          const result = await letmepost.resume({
            workspaceId,
            resumeToken: body.resume_token,
            ...(body.credentials !== undefined ? { credentials: convertKeys({ value: body.credentials, convert: snakeToCamel }) } : {}),
          });
          return json({ status: 200, requestId, body: { data: serializePublishResult(result) } });
        }
        case 'POST /maintenance/refresh-due': {
          if (options.authorizeOperator === undefined) throw new HttpProblem(404, 'not_found', 'No such route');
          if ((await options.authorizeOperator(request)) !== true) {
            throw new HttpProblem(403, 'permission_denied', 'This caller may not run operator tasks.', 'rest.operator_required');
          }
          const body = await readJson({ request, schema: refreshDueBody, maxBodyBytes });
          const report = await letmepost.accounts.refreshDue({
            within: body.within_ms,
            ...(body.workspace_id !== undefined ? { workspaceId: body.workspace_id } : {}),
          });
          return json({ status: 200, requestId, body: { data: convertKeys({ value: report, convert: camelToSnake }) as Record<string, unknown> } });
        }
        default:
          throw new HttpProblem(404, 'not_found', 'No such route');
      }
    } catch (error) {
      return errorResponse({ error, requestId, logger });
    }
  };
}

