export { createTemplate, type TemplateProvider, type TemplateProviderSettings } from './template-provider.js';
export { templateCredentialsSchema, templateAccountDataSchema, type TemplateCredentials } from './template-credentials.js';
export { templateOptionsSchema, templateCapabilities, type TemplateOptions } from './template-options.js';
export { TEMPLATE_WRITE_SCOPES, TEMPLATE_EXTENDED_SCOPES } from './template-oauth.js';
