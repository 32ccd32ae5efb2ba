import { describe, expect, it } from 'vitest';
import { linkedInAccountDataSchema, linkedInCredentialSchema } from './linkedin-credentials.js';

const issues = (value: unknown) => {
  const parsed = linkedInCredentialSchema.safeParse(value);
  return parsed.success ? [] : parsed.error.issues.map((issue) => [issue.path.join('.'), issue.message]);
};

describe('linkedInCredentialSchema', () => {
  it('accepts a member or an organization, as bare ids or URNs', () => {
    expect(linkedInCredentialSchema.parse({ accessToken: 'tok', personId: '782bbtaQ' })).toEqual({ accessToken: 'tok', personId: '782bbtaQ' });
    expect(linkedInCredentialSchema.parse({ accessToken: 'tok', personId: 'urn:li:person:782bbtaQ' })).toEqual({
      accessToken: 'tok',
      personId: '782bbtaQ',
    });
    expect(linkedInCredentialSchema.parse({ accessToken: 'tok', organizationId: 'urn:li:organization:2414183' })).toEqual({
      accessToken: 'tok',
      organizationId: '2414183',
    });
  });

  it('names the field that is wrong', () => {
    expect(issues({ personId: 'abc' })).toEqual([['accessToken', 'Invalid input: expected string, received undefined']]);
    expect(issues({ accessToken: 'tok' })).toEqual([
      ['personId', 'either personId or organizationId is required'],
      ['organizationId', 'either personId or organizationId is required'],
    ]);
    expect(issues({ accessToken: 'tok', personId: 'a', organizationId: '1' })).toEqual([
      ['organizationId', 'give either personId or organizationId, not both'],
    ]);
    expect(issues({ accessToken: 'tok', organizationId: 'acme' })).toEqual([
      ['organizationId', 'must be a numeric organization id or urn:li:organization:<id>'],
    ]);
    expect(issues({ accessToken: 'tok', personId: 'urn:li:organization:1' })).toEqual([
      ['personId', 'must be a LinkedIn member id (the OpenID `sub`) or urn:li:person:<id>'],
    ]);
    expect(issues({ accessToken: 'tok', personId: 'a', page_id: 'x' })).toEqual([['', 'Unrecognized key: "page_id"']]);
  });
});

describe('linkedInAccountDataSchema', () => {
  it('requires an author URN', () => {
    expect(linkedInAccountDataSchema.safeParse({ urn: 'urn:li:organization:1', memberUrn: 'urn:li:person:a' }).success).toBe(true);
    expect(linkedInAccountDataSchema.safeParse({ urn: 'urn:li:group:1' }).success).toBe(false);
  });
});
