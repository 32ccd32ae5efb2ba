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
