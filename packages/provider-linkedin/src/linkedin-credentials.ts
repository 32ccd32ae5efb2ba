import { z } from 'zod';

const PERSON_URN_PREFIX = 'urn:li:person:';
const ORGANIZATION_URN_PREFIX = 'urn:li:organization:';

// A member id is the OpenID `sub`: opaque, URL-safe characters. An organization id is numeric.
const personIdPattern = /^[A-Za-z0-9_-]+$/;
const organizationIdPattern = /^\d+$/;

export function personUrn(personId: string): string {
  return `${PERSON_URN_PREFIX}${personId}`;
}

export function organizationUrn(organizationId: string): string {
  return `${ORGANIZATION_URN_PREFIX}${organizationId}`;
}

/** Accepts either the bare id or the full URN, since hosts copy both from LinkedIn's tools. */
function stripPrefix(value: string, prefix: string): string {
  return value.startsWith(prefix) ? value.slice(prefix.length) : value;
}

/** A member id (`sub`) or `urn:li:person:<sub>`, normalised to the bare id. */
export const linkedInPersonIdSchema = z
  .string()
  .trim()
  .transform((value) => stripPrefix(value, PERSON_URN_PREFIX))
  .pipe(z.string().regex(personIdPattern, 'must be a LinkedIn member id (the OpenID `sub`) or urn:li:person:<id>'));

/** A numeric organization id or `urn:li:organization:<id>`, normalised to the bare id. */
export const linkedInOrganizationIdSchema = z
  .string()
  .trim()
  .transform((value) => stripPrefix(value, ORGANIZATION_URN_PREFIX))
  .pipe(z.string().regex(organizationIdPattern, 'must be a numeric organization id or urn:li:organization:<id>'));

/** Per-request credentials: who posts is decided by which id is given. */
export type LinkedInCredentials =
  | { accessToken: string; personId: string; organizationId?: never }
  | { accessToken: string; organizationId: string; personId?: never };

/**
 * `accessToken` plus exactly one of `personId` / `organizationId`. Written as one object with a
 * refinement rather than a bare union so a mistake is reported on the field that is wrong
 * (`personId`), not as an opaque "no union member matched".
 */
export const linkedInCredentialSchema: z.ZodType<LinkedInCredentials, unknown> = z
  .object({
    accessToken: z.string().trim().min(1, 'is required'),
    personId: linkedInPersonIdSchema.optional(),
    organizationId: linkedInOrganizationIdSchema.optional(),
  })
  .strict()
  .superRefine((value, context) => {
    if (value.personId === undefined && value.organizationId === undefined) {
      for (const path of ['personId', 'organizationId'] as const) {
        context.addIssue({ code: 'custom', path: [path], message: 'either personId or organizationId is required' });
      }
    }
    if (value.personId !== undefined && value.organizationId !== undefined) {
      context.addIssue({
        code: 'custom',
        path: ['organizationId'],
        message: 'give either personId or organizationId, not both',
      });
    }
  })
  .transform((value): LinkedInCredentials =>
    value.personId !== undefined
      ? { accessToken: value.accessToken, personId: value.personId }
      : { accessToken: value.accessToken, organizationId: value.organizationId as string },
  );

/** Non-secret account `data` as stored by core. */
export const linkedInAccountDataSchema = z.looseObject({
  /** The author URN this account posts as. */
  urn: z.string().regex(/^urn:li:(person|organization):[A-Za-z0-9_-]+$/),
  /** For an organization: the member who administers it and granted the token. */
  memberUrn: z.string().startsWith(PERSON_URN_PREFIX).optional(),
  /** The role the member holds on the organization page (ADMINISTRATOR, CONTENT_ADMIN...). */
  role: z.string().optional(),
  vanityName: z.string().optional(),
});
export type LinkedInAccountData = z.infer<typeof linkedInAccountDataSchema>;
