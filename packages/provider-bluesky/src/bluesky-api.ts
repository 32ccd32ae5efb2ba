import { lazySchema } from '@letmepost/core/internal';
import { z } from 'zod';

/**
 * Wire schemas of every XRPC response this provider reads, and the types of the records it
 * writes. Objects are loose where the lexicon allows servers to add fields, so a newer PDS does
 * not break parsing; only the fields we depend on are required.
 */

/** `{ error, message }`: the body of every failed XRPC call. */
export const xrpcErrorSchema = lazySchema(() =>
  z.looseObject({
    error: z.string(),
    message: z.string().optional(),
  }),
);

export type XrpcError = z.infer<ReturnType<typeof xrpcErrorSchema>>;

// Plain, not lazy: the public credential and account schemas are built from it.
export const didSchema = z.string().regex(/^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]$/, 'must be a DID');

/** `com.atproto.server.createSession` and `refreshSession` output. */
export const sessionResponseSchema = lazySchema(() =>
  z.looseObject({
    accessJwt: z.string().min(1),
    refreshJwt: z.string().min(1),
    handle: z.string(),
    did: didSchema,
    didDoc: z.unknown().optional(),
    email: z.string().optional(),
    emailConfirmed: z.boolean().optional(),
    active: z.boolean().optional(),
    status: z.string().optional(),
  }),
);

export type SessionResponse = z.infer<ReturnType<typeof sessionResponseSchema>>;

/** `com.atproto.identity.resolveHandle` output. */
export const resolveHandleResponseSchema = lazySchema(() => z.looseObject({ did: didSchema }));

const didServiceSchema = lazySchema(() =>
  z.looseObject({
    id: z.string(),
    type: z.union([z.string(), z.array(z.string())]),
    serviceEndpoint: z.unknown(),
  }),
);

/** A DID document, as served by plc.directory or `/.well-known/did.json`. */
export const didDocumentSchema = lazySchema(() =>
  z.looseObject({
    id: didSchema,
    alsoKnownAs: z.array(z.string()).optional(),
    service: z.array(didServiceSchema()).optional(),
  }),
);

export type DidDocument = z.infer<ReturnType<typeof didDocumentSchema>>;

/** A blob reference as `uploadBlob` returns it; records must embed it unchanged. */
export const blobRefSchema = lazySchema(() =>
  z.object({
    $type: z.literal('blob'),
    ref: z.object({ $link: z.string().min(1) }),
    mimeType: z.string(),
    size: z.number().int().nonnegative(),
  }),
);

export type BlobRef = z.infer<ReturnType<typeof blobRefSchema>>;

export const uploadBlobResponseSchema = lazySchema(() => z.looseObject({ blob: blobRefSchema() }));

export const strongRefSchema = lazySchema(() => z.object({ uri: z.string().startsWith('at://'), cid: z.string().min(1) }));

export type StrongRef = z.infer<ReturnType<typeof strongRefSchema>>;

/** `com.atproto.repo.createRecord` output. */
export const createRecordResponseSchema = lazySchema(() =>
  z.looseObject({
    uri: z.string().startsWith('at://'),
    cid: z.string().min(1),
    validationStatus: z.string().optional(),
  }),
);

const replyRefSchema = lazySchema(() => z.looseObject({ root: strongRefSchema(), parent: strongRefSchema() }));

/** The part of a stored post record a reply needs: its own thread root, if it has one. */
const storedPostSchema = lazySchema(() => z.looseObject({ reply: replyRefSchema().optional() }));

/** `com.atproto.repo.getRecord` output for an `app.bsky.feed.post` record. */
export const getRecordResponseSchema = lazySchema(() =>
  z.looseObject({
    uri: z.string().startsWith('at://'),
    cid: z.string().min(1),
    value: storedPostSchema(),
  }),
);

/** `app.bsky.feed.getPosts` output (AppView). */
export const getPostsResponseSchema = lazySchema(() =>
  z.looseObject({
    posts: z.array(z.looseObject({ uri: z.string(), cid: z.string().min(1), record: storedPostSchema() })),
  }),
);

/** `com.atproto.server.describeServer` output; `blobUploadLimit` is the PDS's own blob cap. */
export const describeServerResponseSchema = lazySchema(() =>
  z.looseObject({
    did: z.string().optional(),
    blobUploadLimit: z.number().int().positive().optional(),
  }),
);

/** `com.atproto.server.getServiceAuth` output. */
export const serviceAuthResponseSchema = lazySchema(() => z.looseObject({ token: z.string().min(1) }));

/** `app.bsky.video.defs#jobStatus`. Unknown `state` values mean "still processing". */
export const jobStatusSchema = lazySchema(() =>
  z.looseObject({
    jobId: z.string().min(1),
    did: z.string().optional(),
    state: z.string(),
    progress: z.number().optional(),
    blob: blobRefSchema().optional(),
    error: z.string().optional(),
    failureCode: z.string().optional(),
    message: z.string().optional(),
  }),
);

export type JobStatus = z.infer<ReturnType<typeof jobStatusSchema>>;

/**
 * `app.bsky.video.uploadVideo` output. The lexicon wraps the status in `jobStatus`, but the
 * video service has answered with the bare status object too, so both are accepted.
 */
export const uploadVideoResponseSchema = lazySchema(() =>
  z.union([
    z.looseObject({ jobStatus: jobStatusSchema() }).transform((value) => value.jobStatus),
    jobStatusSchema(),
  ]),
);

export const getJobStatusResponseSchema = lazySchema(() => z.looseObject({ jobStatus: jobStatusSchema() }));

/** `app.bsky.video.getUploadLimits` output. */
export const uploadLimitsResponseSchema = lazySchema(() =>
  z.looseObject({
    canUpload: z.boolean(),
    remainingDailyVideos: z.number().optional(),
    remainingDailyBytes: z.number().optional(),
    message: z.string().optional(),
    error: z.string().optional(),
  }),
);

export type UploadLimits = z.infer<ReturnType<typeof uploadLimitsResponseSchema>>;

// ---- records we write (app.bsky.feed.post and the embeds it references) ----------------------

export interface AspectRatio {
  width: number;
  height: number;
}

export type FacetFeature =
  | { $type: 'app.bsky.richtext.facet#mention'; did: string }
  | { $type: 'app.bsky.richtext.facet#link'; uri: string }
  | { $type: 'app.bsky.richtext.facet#tag'; tag: string };

export interface Facet {
  index: { byteStart: number; byteEnd: number };
  features: FacetFeature[];
}

export interface ImagesEmbed {
  $type: 'app.bsky.embed.images';
  images: Array<{ image: BlobRef; alt: string; aspectRatio?: AspectRatio }>;
}

export interface VideoEmbed {
  $type: 'app.bsky.embed.video';
  video: BlobRef;
  alt?: string;
  aspectRatio?: AspectRatio;
}

export interface ExternalEmbed {
  $type: 'app.bsky.embed.external';
  external: { uri: string; title: string; description: string; thumb?: BlobRef };
}

export type PostEmbed = ImagesEmbed | VideoEmbed | ExternalEmbed;

export interface PostRecord {
  $type: 'app.bsky.feed.post';
  text: string;
  createdAt: string;
  facets?: Facet[];
  reply?: { root: StrongRef; parent: StrongRef };
  embed?: PostEmbed;
  langs?: string[];
  labels?: { $type: 'com.atproto.label.defs#selfLabels'; values: Array<{ val: string }> };
}

export const POST_COLLECTION = 'app.bsky.feed.post';

/** `app.bsky.actor.getProfile` output, the fields shown for a connected account. */
export const profileResponseSchema = lazySchema(() =>
  z.looseObject({
    did: z.string(),
    handle: z.string().optional(),
    displayName: z.string().optional(),
    avatar: z.string().optional(),
  }),
);
