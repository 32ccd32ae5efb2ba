// Media staging for platforms that fetch media from a URL (Instagram, Threads, TikTok pull mode,
// Pinterest video): the demo keeps staged bytes in memory and serves them from its own origin
// under /media/staged/<id>. A production host would upload to object storage and hand out a
// presigned URL instead (see docs/architecture/resume-and-staging.md).
import { randomBytes } from 'node:crypto';

const PREFIX = '/media/staged/';

/** @param {{ baseUrl: string }} options */
export function createDemoMediaStaging({ baseUrl }) {
  /** @type {Map<string, { bytes: Buffer, mimeType: string }>} */
  const staged = new Map();

  return {
    /** The `mediaStaging` option of `createLetmepost`. */
    mediaStaging: {
      async stage({ media }) {
        const chunks = [];
        if (media.data) chunks.push(Buffer.from(media.data));
        else for await (const chunk of media.stream) chunks.push(Buffer.from(chunk));
        // Unguessable: the URL is the only thing standing between the bytes and the public.
        const id = randomBytes(18).toString('base64url');
        staged.set(id, { bytes: Buffer.concat(chunks), mimeType: media.mimeType });
        return { url: new URL(`${PREFIX}${id}`, baseUrl).href };
      },
      async release({ url }) {
        staged.delete(new URL(url).pathname.slice(PREFIX.length));
      },
    },

    /** Serves a staged file; returns false when the request is not for one. */
    serve(request, response) {
      const url = new URL(request.url ?? '/', baseUrl);
      if (request.method !== 'GET' || !url.pathname.startsWith(PREFIX)) return false;
      const file = staged.get(url.pathname.slice(PREFIX.length));
      if (!file) {
        response.writeHead(404).end();
        return true;
      }
      response.writeHead(200, { 'content-type': file.mimeType, 'content-length': file.bytes.byteLength, 'cache-control': 'no-store' });
      response.end(file.bytes);
      return true;
    },
  };
}
