export { startSandbox } from './sandbox-server.js';
export type { Sandbox, SandboxOptions } from './sandbox-server.js';
export type { SandboxApp, SandboxFault, SandboxPost, ReceivedEvent } from './sandbox-state.js';
export { SandboxState } from './sandbox-state.js';
export { blueskyUser } from './sandbox-bluesky.js';
export { twitterUser } from './sandbox-twitter.js';
export { linkedinOrganization, linkedinUser } from './sandbox-linkedin.js';
export type { SandboxOAuth1Credentials } from './sandbox-oauth1.js';
