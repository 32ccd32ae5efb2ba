/**
 * Walks a sandbox consent page the way a browser would (read the page, approve it) and returns
 * the callback URL the platform redirects to.
 */
export async function approveSandboxConsent(options: { authorizeUrl: string | URL }): Promise<string> {
  const consentPage = await (await fetch(options.authorizeUrl)).text();
  const consentId = /name="consent_id" value="([^"]+)"/.exec(consentPage)?.[1];
  if (consentId === undefined) throw new Error(`no consent form at ${String(options.authorizeUrl)}`);
  const approved = await fetch(new URL('consent', options.authorizeUrl), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ consent_id: consentId, decision: 'approve' }),
  });
  const location = approved.headers.get('location');
  if (location === null) throw new Error(`the consent answered ${approved.status} without a redirect`);
  return location;
}

/** One authenticated REST call (`Bearer key-a`) through the handler, JSON in and out. */
export async function callRest(options: { handler: (request: Request) => Promise<Response>; baseUrl: string; method: string; path: string; body?: unknown }) {
  const response = await options.handler(
    new Request(`${options.baseUrl}${options.path}`, {
      method: options.method,
      headers: { authorization: 'Bearer key-a', ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    }),
  );
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}
