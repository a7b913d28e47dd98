/**
 * Bodies a route compressed itself. A Next.js route handler cannot send `Content-Encoding`: Next
 * drops that header from every route response (`FORBIDDEN_HEADERS` in next/dist/server/
 * send-response.js, because a body passed on from `fetch` may have been decoded already). So a
 * route that sends bytes it compressed once (app/api/_lib/cached-body.ts) names their coding in
 * {@link PRECOMPRESSED_HEADER} instead, and {@link restorePrecompressed} moves it back into
 * `Content-Encoding` as the headers go out: before the server's general compression looks at
 * them, which then leaves the body alone instead of compressing it a second time.
 */
import type { ServerResponse } from "node:http";
import onHeaders from "on-headers";
import { PRECOMPRESSED_HEADER } from "@/lib/precompressed-header";

/**
 * Install on one response, after the compression middleware: `on-headers` listeners run in the
 * reverse order of installation, so this one runs first.
 */
export function restorePrecompressed(res: ServerResponse): void {
  onHeaders(res, function () {
    const coding = this.getHeader(PRECOMPRESSED_HEADER);
    if (coding === undefined) return;
    this.removeHeader(PRECOMPRESSED_HEADER);
    this.setHeader("content-encoding", coding);
  });
}
