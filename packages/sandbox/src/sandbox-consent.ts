/**
 * Walks a sandbox consent page the way a browser would (open it, press "Authorize app") and
 * returns the callback URL the platform redirected to, for tests and scripts that connect
 * through the sandbox without a browser.
 */
export async function approveSandboxConsent(options: { authorizeUrl: URL | string }): Promise<URL> {
  const authorizeUrl = new URL(options.authorizeUrl);
  const page = await fetch(authorizeUrl);
  const consentId = /name="consent_id" value="([^"]+)"/.exec(await page.text())?.[1];
  if (page.status !== 200 || consentId === undefined) throw new Error(`The sandbox showed no consent form at ${authorizeUrl.pathname} (${page.status}).`);
  const answer = await fetch(new URL('consent', authorizeUrl), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ consent_id: consentId, decision: 'approve' }),
  });
  const location = answer.headers.get('location');
  if (answer.status !== 302 || location === null) throw new Error(`The sandbox consent answered ${answer.status} without a redirect.`);
  return new URL(location);
}
