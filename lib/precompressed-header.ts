/**
 * The response header in which a route names the coding its body already has (e.g. `gzip`): a
 * Next.js route handler cannot send `Content-Encoding` (Next drops it), so the server moves this
 * one into it as the headers go out (server/http/precompressed.ts).
 */
export const PRECOMPRESSED_HEADER = "x-laneboard-content-encoding";
