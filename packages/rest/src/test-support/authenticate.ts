/** Test-only: two API keys, one per workspace; anything else is unauthenticated. */
export function authenticateTestKeys(request: Request): { workspaceId: string } | null {
  const key = request.headers.get('authorization');
  if (key === 'Bearer key-a') return { workspaceId: 'ws-a' };
  if (key === 'Bearer key-b') return { workspaceId: 'ws-b' };
  return null;
}
