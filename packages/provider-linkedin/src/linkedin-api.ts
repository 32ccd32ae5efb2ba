import { lazySchema } from '@letmepost/core/internal';
import { z } from 'zod';

/**
 * zod schemas of every LinkedIn response this provider reads. Objects are loose on purpose:
 * LinkedIn adds fields between monthly versions, and a new field must never break a publish.
 * Only what we use is required.
 */

/** `GET /v2/userinfo` (OpenID Connect, needs `openid profile`). */
export const linkedInUserInfoSchema = lazySchema(() =>
  z.looseObject({
    sub: z.string().min(1),
    name: z.string().optional(),
    given_name: z.string().optional(),
    family_name: z.string().optional(),
    picture: z.string().optional(),
    email: z.string().optional(),
    email_verified: z.boolean().optional(),
  }),
);
export type LinkedInUserInfo = z.infer<ReturnType<typeof linkedInUserInfoSchema>>;

/**
 * `GET /v2/me` (needs `r_basicprofile`): the identity route for apps that cannot have OpenID
 * Connect, such as Community Management API apps, which must hold no other product.
 */
export const linkedInMeSchema = lazySchema(() =>
  z.looseObject({
    id: z.string().min(1),
    localizedFirstName: z.string().optional(),
    localizedLastName: z.string().optional(),
    vanityName: z.string().optional(),
  }),
);
export type LinkedInMe = z.infer<ReturnType<typeof linkedInMeSchema>>;

const pagingSchema = lazySchema(() =>
  z.looseObject({
    start: z.number().int().nonnegative().optional(),
    count: z.number().int().nonnegative().optional(),
    total: z.number().int().nonnegative().optional(),
  }),
);

/** `GET /rest/organizationAcls?q=roleAssignee`: one row per (organization, role). */
export const linkedInOrganizationAclsSchema = lazySchema(() =>
  z.looseObject({
    elements: z.array(
      z.looseObject({
        organization: z.string().optional(),
        // Older payloads name the field `organizationalTarget`.
        organizationalTarget: z.string().optional(),
        role: z.string().optional(),
        state: z.string().optional(),
      }),
    ),
    paging: pagingSchema().optional(),
  }),
);
export type LinkedInOrganizationAcls = z.infer<ReturnType<typeof linkedInOrganizationAclsSchema>>;

/** `GET /rest/organizations/{id}`. */
export const linkedInOrganizationSchema = lazySchema(() =>
  z.looseObject({
    id: z.number().int().optional(),
    localizedName: z.string().optional(),
    vanityName: z.string().optional(),
    logoV2: z
      .looseObject({
        original: z.string().optional(),
        cropped: z.string().optional(),
      })
      .optional(),
  }),
);
export type LinkedInOrganization = z.infer<ReturnType<typeof linkedInOrganizationSchema>>;

/** `POST /rest/images?action=initializeUpload`. */
export const linkedInInitializeImageUploadSchema = lazySchema(() =>
  z.looseObject({
    value: z.looseObject({
      uploadUrl: z.url(),
      image: z.string().startsWith('urn:li:image:'),
      uploadUrlExpiresAt: z.number().optional(),
    }),
  }),
);
export type LinkedInInitializeImageUpload = z.infer<ReturnType<typeof linkedInInitializeImageUploadSchema>>;

/** `POST /rest/videos?action=initializeUpload`. */
export const linkedInInitializeVideoUploadSchema = lazySchema(() =>
  z.looseObject({
    value: z.looseObject({
      video: z.string().startsWith('urn:li:video:'),
      uploadToken: z.string().optional(),
      uploadUrlsExpireAt: z.number().optional(),
      uploadInstructions: z
        .array(
          z.looseObject({
            uploadUrl: z.url(),
            firstByte: z.number().int().nonnegative(),
            lastByte: z.number().int().nonnegative(),
          }),
        )
        .min(1),
    }),
  }),
);
export type LinkedInInitializeVideoUpload = z.infer<ReturnType<typeof linkedInInitializeVideoUploadSchema>>;

/** `GET /rest/videos/{urn}`. */
export const linkedInVideoSchema = lazySchema(() =>
  z.looseObject({
    id: z.string().optional(),
    // WAITING_UPLOAD | PROCESSING | AVAILABLE | PROCESSING_FAILED, kept as a string: an unknown
    // future status is treated as "still processing", not a crash.
    status: z.string(),
    processingFailureReason: z.string().optional(),
  }),
);
export type LinkedInVideo = z.infer<ReturnType<typeof linkedInVideoSchema>>;

/**
 * The error body of the REST and OAuth hosts. Three generations coexist:
 * `{status, serviceErrorCode, code, message}`, `{status, message}` and
 * `{errorCode, status, message}`; validation failures add `errorDetails.inputErrors[].code`.
 */
export const linkedInErrorSchema = lazySchema(() =>
  z.looseObject({
    status: z.number().int().optional(),
    serviceErrorCode: z.number().int().optional(),
    code: z.string().optional(),
    message: z.string().optional(),
    errorCode: z.number().int().optional(),
    errorDetailType: z.string().optional(),
    errorDetails: z
      .looseObject({
        inputErrors: z
          .array(
            z.looseObject({
              code: z.string().optional(),
              description: z.string().optional(),
            }),
          )
          .optional(),
      })
      .optional(),
  }),
);
export type LinkedInErrorBody = z.infer<ReturnType<typeof linkedInErrorSchema>>;

/** Body of `POST /rest/posts`, as built by `convert-to-linkedin-post.ts`. */
export interface LinkedInPostBody {
  author: string;
  commentary: string;
  visibility: 'PUBLIC' | 'CONNECTIONS' | 'LOGGED_IN';
  distribution: {
    feedDistribution: 'MAIN_FEED' | 'NONE';
    targetEntities: [];
    thirdPartyDistributionChannels: [];
  };
  lifecycleState: 'PUBLISHED';
  isReshareDisabledByAuthor: boolean;
  content?: LinkedInPostContent;
}

export type LinkedInPostContent =
  | { article: { source: string; title: string; description?: string; thumbnail?: string } }
  | { media: { id: string; title?: string; altText?: string } }
  | { multiImage: { images: Array<{ id: string; altText?: string }> } };
