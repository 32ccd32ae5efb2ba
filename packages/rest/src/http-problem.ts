/**
 * A REST-level failure that is not a letmepost error (no route, no API key, a body the handler
 * will not read): answered with `status` and `{ error: { code, message, doc_url } }`.
 */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
