/**
 * Next.js config. The app is served by the custom server (server/main.ts), which also hosts
 * Socket.IO on the same origin, so the browser needs no rewrites or extra origins.
 * @type {import("next").NextConfig}
 */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
};

export default nextConfig;
