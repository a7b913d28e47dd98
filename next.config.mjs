/**
 * Next.js config. The app is served by the custom server (server/main.ts), which also hosts
 * Socket.IO on the same origin, so the browser needs no rewrites or extra origins.
 * @type {import("next").NextConfig}
 */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // The custom server compresses (server/main.ts), so that a route can send a body it gzipped
  // once (app/api/_lib/cached-body.ts): Next.js's own compression would gzip that again.
  compress: false,
};

export default nextConfig;
