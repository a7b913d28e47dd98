/**
 * Architecture rules, checked by `npm run lint` (dependency-cruiser). The layers they keep are
 * drawn in docs/architecture.md ("Layers and the rules that keep them"); that section also says
 * where new code goes. Type-only imports count: a type couples folders as much as a value does.
 *
 * "Production code" is everything under server/, lib/, app/ and components/ except tests
 * (`*.test.ts`) and test helpers (`*.testing.ts`, `testing/` or `_testing/` folders, `testdata/`, `fixtures/`).
 */
const TESTS = "\\.test\\.tsx?$";
const TEST_HELPERS = "(\\.testing\\.tsx?$|/_?testing/|/testdata/|/fixtures/)";

/** @type {import("dependency-cruiser").IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-folder-cycles",
      comment:
        "Folders under server/ import each other in one direction only (a DAG; docs/architecture.md lists the order). " +
        "When two services need each other, the lower one asks through a request or an event on the bus (server/events/event-bus.ts).",
      severity: "error",
      scope: "folder",
      from: { path: "^server/" },
      to: { path: "^server/", circular: true },
    },
    {
      name: "no-module-cycles",
      comment: "Files do not import each other's values in a loop (a loop closed only by type imports is allowed: it has no load order).",
      severity: "error",
      from: { path: "^(server|lib|app|components)/" },
      to: { circular: true, viaOnly: { dependencyTypesNot: ["type-only"] } },
    },
    {
      name: "domain-not-on-composition-root",
      comment: "Only the entry points (server/main.ts, the runtime) and tests may import the composition root; services get what they need as constructor dependencies.",
      severity: "error",
      from: { path: "^server/[^/]+/", pathNot: TEST_HELPERS },
      to: { path: "^server/(runtime|runtime-global|main)\\.ts$" },
    },
    {
      name: "domain-without-frameworks",
      comment: "The domain (server/ except the realtime adapter and the entry point) never imports Next.js, Socket.IO or React: it emits on the EventBus and server/realtime forwards.",
      severity: "error",
      from: { path: "^server/", pathNot: "^server/(realtime/|main\\.ts$)" },
      to: { path: "(^|/)node_modules/(next|socket\\.io|socket\\.io-client|react|react-dom)/|^(next|react|react-dom|socket\\.io|socket\\.io-client)($|/)" },
    },
    {
      name: "shared-lib-stays-shared",
      comment: "lib/ is what server and browser share: it imports neither server/ nor components/ nor app/.",
      severity: "error",
      from: { path: "^lib/" },
      to: { path: "^(server|components|app)/" },
    },
    {
      name: "components-not-on-server",
      comment: "The browser's components reach the server through the HTTP API and Socket.IO (lib/ types), never by importing server/.",
      severity: "error",
      from: { path: "^components/" },
      to: { path: "^server/" },
    },
    {
      name: "routes-reach-the-runtime-through-getRuntime",
      comment:
        "Route handlers are bundled apart from the runtime: from server/ they import only server/runtime-global.ts (getRuntime) and types; everything else they need is in lib/.",
      severity: "error",
      from: { path: "^app/", pathNot: `${TESTS}|${TEST_HELPERS}` },
      to: { path: "^server/", pathNot: "^server/runtime-global\\.ts$", dependencyTypesNot: ["type-only"] },
    },
    {
      name: "production-not-on-test-helpers",
      comment: "Production code never imports tests or test helpers (*.testing.ts, testing/ folders, testdata/, fixtures/).",
      severity: "error",
      from: { path: "^(server|lib|app|components)/", pathNot: `${TESTS}|${TEST_HELPERS}` },
      to: { path: `${TESTS}|${TEST_HELPERS}` },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: `^server/store/generated/|${TESTS}` },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"], extensions: [".ts", ".tsx", ".mjs", ".js", ".json"] },
    skipAnalysisNotInRules: true,
  },
};
