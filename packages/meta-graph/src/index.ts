/**
 * @letmepost/meta-graph: the Graph API dialect Facebook, Instagram and Threads share, in one
 * place (the way vercel/ai shares `openai-compatible`): the HTTP client with `appsecret_proof`,
 * the Graph error table (non-2xx and 2xx error bodies), usage-header rate limits, the long-lived
 * token swaps and the media-container lifecycle.
 */
export * from './meta-graph-api.js';
export * from './meta-graph-container.js';
export * from './meta-graph-edge.js';
export * from './meta-graph-error.js';
export * from './meta-graph-http.js';
export * from './meta-graph-token.js';
export * from './meta-graph-usage.js';
