import {
  LetmepostError,
  type ClientCredentials,
  type PlatformId,
  type ProviderAuth,
  type ProviderCapabilities,
  type ProviderV2,
  type PublishAuth,
  type ValidationIssue,
} from '@letmepost/core';
import { getPublishContext, isCheckedByCore, validatePost } from '@letmepost/core/internal';
import type { z } from 'zod';
import { platformName } from './http-error.js';

/** The provider contract's methods (every function member, present or optional). */
export type ProviderMethods<CREDENTIALS, OPTIONS> = {
  [NAME in keyof ProviderV2<CREDENTIALS, OPTIONS> as NonNullable<ProviderV2<CREDENTIALS, OPTIONS>[NAME]> extends (
    ...parameters: never[]
  ) => unknown
    ? NAME
    : never]-?: NonNullable<ProviderV2<CREDENTIALS, OPTIONS>[NAME]>;
};

/** A contract method as a definition writes it: the same options plus the provider's `context`. */
export type DefinedMethod<CONTEXT, METHOD> = METHOD extends (options: infer OPTIONS) => infer RESULT
  ? (options: OPTIONS & { context: CONTEXT }) => RESULT
  : never;

/** The methods of a definition: `publish` and `validate` always, the others when the platform has them. */
export type ProviderDefinitionMethods<CONTEXT, CREDENTIALS, OPTIONS> = {
  [NAME in keyof ProviderMethods<CREDENTIALS, OPTIONS>]?: DefinedMethod<CONTEXT, ProviderMethods<CREDENTIALS, OPTIONS>[NAME]>;
} & {
  publish: DefinedMethod<CONTEXT, ProviderMethods<CREDENTIALS, OPTIONS>['publish']>;
  validate: DefinedMethod<CONTEXT, ProviderMethods<CREDENTIALS, OPTIONS>['validate']>;
};

/** A value fixed for the provider, or computed once from its parsed settings. */
export type FromSettings<SETTINGS, VALUE> = VALUE | ((options: { settings: SETTINGS }) => VALUE);

/**
 * Everything that makes a provider, named one way: `settingsSchema`, `credentialSchema`,
 * `accountSchema`, `optionsSchema`; `createContext` builds the one `context` object every method
 * receives; `methods` are the contract's methods with that context added.
 */
export interface ProviderDefinition<SETTINGS_INPUT, SETTINGS, CONTEXT, CREDENTIALS, OPTIONS> {
  id: PlatformId;
  displayName: string;
  /**
   * Parses `create<Brand>(settings)`. Use a loose object built on `baseProviderSettingsSchema`:
   * a bad value fails at creation with `validation_failed` naming `settings.<field>`.
   */
  settingsSchema: z.ZodType<SETTINGS, SETTINGS_INPUT>;
  credentialSchema: z.ZodType<CREDENTIALS>;
  accountSchema: z.ZodType<Record<string, unknown>>;
  optionsSchema: z.ZodType<OPTIONS>;
  /** What the user gives before consent (Mastodon `{ instanceUrl }`); core checks it. */
  connectParamsSchema?: z.ZodType<unknown>;
  auth: FromSettings<SETTINGS, ProviderAuth>;
  capabilities: FromSettings<SETTINGS, ProviderCapabilities>;
  /** Builds what every method shares (HTTP clients, base URLs, the clock) once per instance. */
  createContext(options: { settings: SETTINGS }): CONTEXT;
  methods: ProviderDefinitionMethods<CONTEXT, CREDENTIALS, OPTIONS>;
}

/**
 * The one way to write a provider: returns `create<Brand>(settings)`, which parses the settings,
 * builds the context once, and returns a `ProviderV2` whose methods
 * - get the `context` besides the contract's options;
 * - re-check what a direct caller hands over, the way core does before it calls them:
 *   per-request credentials (in `auth`, and `connectWithCredentials`'s `credentials`) and
 *   `publish`'s options are parsed again (`validation_failed` naming `credentials.<field>` /
 *   `options.<field>`); `publish` outside core's preflight runs `validatePost` and refuses an
 *   invalid post before any request (`preflight_failed`). Core's own publish call carries input
 *   core parsed a moment earlier and is marked so (`isCheckedByCore`): it is not parsed again;
 * - `validate` reports unparseable options as `<id>.options.invalid` issues (and still checks
 *   the post, against the default options).
 * `defaultClient` comes from `settings.clientId`/`clientSecret`.
 */
export function defineProvider<SETTINGS_INPUT, SETTINGS, CONTEXT, CREDENTIALS, OPTIONS>(
  definition: ProviderDefinition<SETTINGS_INPUT, SETTINGS, CONTEXT, CREDENTIALS, OPTIONS>,
): (settings?: SETTINGS_INPUT) => ProviderV2<CREDENTIALS, OPTIONS> {
  return (input) => {
    const settings = parseSettings({ platform: definition.id, schema: definition.settingsSchema, input: input ?? ({} as SETTINGS_INPUT) });
    const context = definition.createContext({ settings });
    const from = <VALUE>(value: FromSettings<SETTINGS, VALUE>): VALUE =>
      typeof value === 'function' ? (value as (options: { settings: SETTINGS }) => VALUE)({ settings }) : value;
    const defaultClient = defaultClientFromSettings({ settings });
    const boundary = createBoundary({
      platform: definition.id,
      credentialSchema: definition.credentialSchema,
      optionsSchema: definition.optionsSchema,
    });

    const provider: Record<string, unknown> = {
      specificationVersion: 'v2',
      id: definition.id,
      displayName: definition.displayName,
      auth: from(definition.auth),
      credentialSchema: definition.credentialSchema,
      accountSchema: definition.accountSchema,
      optionsSchema: definition.optionsSchema,
      ...(definition.connectParamsSchema !== undefined && { connectParamsSchema: definition.connectParamsSchema }),
      capabilities: from(definition.capabilities),
      ...(defaultClient !== undefined && { defaultClient }),
    };
    for (const [name, method] of Object.entries(definition.methods) as [string, ((options: object) => unknown) | undefined][]) {
      if (method === undefined) continue;
      provider[name] = (options: Record<string, unknown> = {}) => {
        // Core's own calls carry input it parsed a moment earlier; every other call is checked.
        if (isCheckedByCore(options)) return method({ ...options, context });
        let checked: Record<string, unknown>;
        try {
          checked = boundary({ name, options, context });
        } catch (error) {
          // Only asynchronous methods carry credentials or options to check: they reject.
          return Promise.reject(error);
        }
        return method(checked);
      };
    }
    provider.validate = (options: { options?: unknown }) => {
      const validate = definition.methods.validate as (options: object) => ValidationIssue[];
      // Core's preflight hands over the options it parsed for this publish.
      if (isCheckedByCore(options)) return validate({ ...options, context });
      const parsed = definition.optionsSchema.safeParse(options.options ?? {});
      if (parsed.success) return validate({ ...options, options: parsed.data, context });
      // Bad options are issues, not a throw; the post is still checked, against the defaults.
      const issues = optionIssues({ platform: definition.id, error: parsed.error });
      const defaults = definition.optionsSchema.safeParse({});
      return defaults.success ? [...issues, ...validate({ ...options, options: defaults.data, context })] : issues;
    };
    const typed = provider as unknown as ProviderV2<CREDENTIALS, OPTIONS>;
    // Direct calls are checked like core's preflight checks them, after their credentials and
    // options; inside core's publish (a publish context is active) the post was checked already.
    const publish = typed.publish;
    provider.publish = (options: Parameters<typeof publish>[0]) => {
      // Core's own call: it parsed the credentials and options and ran the preflight already.
      if (isCheckedByCore(options)) return publish(options);
      if (getPublishContext() !== undefined) return publish(options);
      let checked: Record<string, unknown>;
      try {
        checked = boundary({ name: 'publish', options: options as unknown as Record<string, unknown>, context });
      } catch (error) {
        return Promise.reject(error);
      }
      const issues = validatePost({
        provider: typed,
        post: options.post,
        options: checked.options,
        ...(options.auth.type === 'account' && { account: options.auth.account }),
      });
      if (issues.length > 0) return Promise.reject(preflightError({ platform: definition.id, issues }));
      // Checked once: straight to the definition's method, not through the wrapper that would check again.
      return (definition.methods.publish as (options: object) => ReturnType<typeof publish>)(checked);
    };
    return typed;
  };
}

function parseSettings<SETTINGS_INPUT, SETTINGS>(options: {
  platform: PlatformId;
  schema: z.ZodType<SETTINGS, SETTINGS_INPUT>;
  input: SETTINGS_INPUT;
}): SETTINGS {
  const { platform, input } = options;
  const parsed = options.schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => ({ field: ['settings', ...issue.path.map(String)].join('.'), message: issue.message }));
  const [first] = issues;
  const secret = (input as { clientSecret?: unknown } | undefined)?.clientSecret;
  throw new LetmepostError({
    code: 'validation_failed',
    message: `Invalid ${platformName(platform)} provider settings: ${first?.field ?? 'settings'} ${first?.message ?? 'is invalid'}.`,
    platform,
    field: first?.field ?? 'settings',
    issues,
    knownSecrets: typeof secret === 'string' ? [secret] : [],
  });
}

/**
 * The instance-wide app from a provider's parsed settings (`clientId`/`clientSecret`), for its
 * context: the same pair `defineProvider` exposes as `provider.defaultClient`.
 */
export function defaultClientFromSettings({ settings }: { settings: unknown }): ClientCredentials | undefined {
  const { clientId, clientSecret } = (settings ?? {}) as { clientId?: unknown; clientSecret?: unknown };
  if (typeof clientId !== 'string' || clientId === '') return undefined;
  return { clientId, ...(typeof clientSecret === 'string' && clientSecret !== '' && { clientSecret }) };
}

/**
 * Parses `value` with `schema`, or throws `validation_failed` whose fields start with `field`
 * (`credentials.personId`). What every provider boundary uses, so direct callers get the field
 * errors core's own checks would give.
 */
export function parseProviderInput<T>(options: { platform: PlatformId; schema: z.ZodType<T>; value: unknown; field: string }): T {
  const parsed = options.schema.safeParse(options.value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => ({ field: [options.field, ...issue.path.map(String)].join('.'), message: issue.message }));
  const [first] = issues;
  throw new LetmepostError({
    code: 'validation_failed',
    message: `Invalid ${platformName(options.platform)} ${options.field}: ${issues.map((issue) => `${issue.field} ${issue.message}`).join('; ')}.`,
    platform: options.platform,
    field: first?.field ?? options.field,
    issues,
  });
}

/** Checks what a call hands over and returns the method's options, `context` added. */
function createBoundary(definition: {
  platform: PlatformId;
  credentialSchema: z.ZodType<unknown>;
  optionsSchema: z.ZodType<unknown>;
}): (call: { name: string; options: Record<string, unknown>; context: unknown }) => Record<string, unknown> {
  const { platform } = definition;
  const parse = <T>(schema: z.ZodType<T>, value: unknown, field: string): T => parseProviderInput({ platform, schema, value, field });
  return ({ name, options: callOptions, context }) => {
    const checked: Record<string, unknown> = { ...callOptions, context };
    const auth = callOptions.auth as PublishAuth<unknown> | undefined;
    if (auth?.type === 'credentials') {
      checked.auth = { type: 'credentials', credentials: parse(definition.credentialSchema, auth.credentials, 'credentials') };
    }
    if (name === 'connectWithCredentials') checked.credentials = parse(definition.credentialSchema, callOptions.credentials, 'credentials');
    if (name === 'publish') checked.options = parse(definition.optionsSchema, callOptions.options ?? {}, 'options');
    return checked;
  };
}

function optionIssues(options: { platform: PlatformId; error: z.ZodError }): ValidationIssue[] {
  return options.error.issues.map((issue) => ({
    rule: `${options.platform}.options.invalid`,
    field: ['options', ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
}

function preflightError(options: { platform: PlatformId; issues: readonly ValidationIssue[] }): LetmepostError {
  const { issues } = options;
  const first = issues[0] as ValidationIssue;
  return new LetmepostError({
    code: 'preflight_failed',
    message: `The post cannot be published to ${platformName(options.platform)}: ${issues.map((issue) => `${issue.field ?? 'post'}: ${issue.message}`).join(' ')}`,
    platform: options.platform,
    rule: first.rule,
    ...(first.field !== undefined && { field: first.field }),
    issues: issues.map((issue) => ({ rule: issue.rule, message: issue.message, ...(issue.field !== undefined && { field: issue.field }) })),
  });
}
