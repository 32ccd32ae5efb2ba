/**
 * A REST-level failure that is not a letmepost error (no route, no API key, a body the handler
 * will not read): answered with `status` and `{ error: { code, message, doc_url, rule? } }`.
 */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** A stable id for the precise cause, e.g. `rest.principal_without_workspace`. */
    readonly rule?: string,
  ) {
    super(message);
  }
}
