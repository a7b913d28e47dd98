import { PHASE_PRODUCTION_BUILD } from "next/constants.js";

/**
 * Next.js config. The app is served by the custom server (server/main.ts), which also hosts
 * Socket.IO on the same origin, so the browser needs no rewrites or extra origins.
 *
 * The production build has no source maps: the server runs with source maps on (tsx turns them
 * on for server/*.ts), and Node then reads and keeps in memory the map of every module it loads
 * that names one: the build's server chunks (about 19 MB of .map files) would cost the running
 * server about 15 MB of RSS (idle, 0 and 1,000 lanes, load 9-13). A stack trace from app/ code
 * then points into `.next/server/chunks`; the domain (server/, loaded by tsx) keeps its mapping,
 * and `npm run dev` keeps every map.
 * @type {(phase: string) => import("next").NextConfig}
 */
const nextConfig = (phase) => ({
  reactStrictMode: true,
  poweredByHeader: false,
  // The custom server compresses (server/main.ts), so that a route can send a body it gzipped
  // once (app/api/_lib/cached-body.ts): Next.js's own compression would gzip that again.
  compress: false,
  experimental: { turbopackSourceMaps: phase !== PHASE_PRODUCTION_BUILD },
});

export default nextConfig;
