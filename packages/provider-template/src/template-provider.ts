import { systemClock, type ProviderV2 } from '@letmepost/core';
import {
  baseProviderSettingsSchema,
  baseUrlSettingSchema,
  createHttpClient,
  defineProvider,
  httpClientSettingsOf,
  resolveAppClient,
  type BaseProviderSettings,
  defaultClientFromSettings,
} from '@letmepost/provider-utils';
import { z } from 'zod';
import type { TemplateContext } from './template-context.js';
import { templateAccountDataSchema, templateCredentialsSchema, type TemplateCredentials } from './template-credentials.js';
import { createTemplateErrorMapper, createTemplateSuccessInspector } from './template-error.js';
import { createTemplateOAuth, TEMPLATE_EXTENDED_SCOPES, TEMPLATE_WRITE_SCOPES } from './template-oauth.js';
import { templateCapabilities, templateOptionsSchema, type TemplateOptions } from './template-options.js';
import { deleteTemplatePost, listTemplateAccounts, publishTemplatePost } from './template-publish.js';
import { validateTemplatePost } from './template-validate.js';

export interface TemplateProviderSettings extends BaseProviderSettings {
  /** API and OAuth host. Default `https://social.example` (what `loadConfigFromEnv` fills from `<ID>_API_BASE`). */
  apiBaseUrl?: string;
}

export type TemplateProvider = ProviderV2<TemplateCredentials, TemplateOptions>;

/** Every setting, parsed at creation; a bad one fails with `validation_failed` naming `settings.<field>`. */
const templateSettingsSchema = baseProviderSettingsSchema.extend({
  apiBaseUrl: baseUrlSettingSchema.optional(),
});

function createTemplateContext({ settings }: { settings: z.output<typeof templateSettingsSchema> }): TemplateContext {
  const clock = settings.clock ?? systemClock;
  const baseUrl = settings.apiBaseUrl ?? 'https://social.example';
  const http = createHttpClient({
    platform: 'mastodon',
    ...httpClientSettingsOf({ settings }),
    mapError: createTemplateErrorMapper({ clock }),
    inspectSuccess: createTemplateSuccessInspector({ clock }),
  });
  const oauth = createTemplateOAuth({
    baseUrl,
    clock,
    ...(settings.dispatcher !== undefined && { dispatcher: settings.dispatcher }),
    ...(settings.http?.timeouts !== undefined && { timeouts: settings.http.timeouts }),
  });
  const defaultClient = defaultClientFromSettings({ settings });
  return { http, baseUrl, clock, oauth, defaultClient };
}

/**
 * The template provider: copy this package, rename `template`/`Template` to your platform's id
 * and brand, and replace the wire details. Stateless; reads no environment variables.
 */
export const createTemplate: (settings?: TemplateProviderSettings) => TemplateProvider = defineProvider({
  id: 'mastodon',
  displayName: 'Template',
  settingsSchema: templateSettingsSchema,
  credentialSchema: templateCredentialsSchema,
  accountSchema: templateAccountDataSchema,
  optionsSchema: templateOptionsSchema,
  auth: {
    kind: 'oauth2',
    scopes: { write: TEMPLATE_WRITE_SCOPES, extended: TEMPLATE_EXTENDED_SCOPES },
    pkce: true,
    refresh: 'rotating',
  },
  capabilities: templateCapabilities,
  createContext: createTemplateContext,
  methods: {
    authorizationUrl: ({ context, ...options }) => context.oauth.authorizationUrl(options),
    exchangeCode: ({ context, ...options }) => context.oauth.exchangeCode(options),
    refresh: ({ context, tokens, client, signal }) =>
      context.oauth.refresh({ tokens, client: resolveAppClient({ platform: 'mastodon', client, defaultClient: context.defaultClient }), ...(signal !== undefined && { signal }) }),
    revoke: ({ context, tokens, client, signal }) =>
      context.oauth.revoke({ tokens, client: resolveAppClient({ platform: 'mastodon', client, defaultClient: context.defaultClient }), ...(signal !== undefined && { signal }) }),
    listAccounts: ({ context, tokens, signal }) => listTemplateAccounts({ context, tokens, ...(signal !== undefined && { signal }) }),
    validate: ({ post, options }) => validateTemplatePost({ post, options }),
    publish: ({ context, post, auth, options, signal }) => publishTemplatePost({ context, post, auth, options, ...(signal !== undefined && { signal }) }),
    deletePost: ({ context, auth, postId, signal }) => deleteTemplatePost({ context, auth, postId, ...(signal !== undefined && { signal }) }),
  },
});
