/**
 * The runtime instance on `globalThis`. Next.js bundles route handlers separately from the
 * custom server that builds the runtime, so module-level singletons would not be shared; a
 * global slot is. Route handlers import only this module (and types) from `server/`.
 */
import { AppError } from "@/lib/errors";
import type { Runtime } from "./runtime";

const KEY = Symbol.for("laneboard.runtime");
type Slot = { [KEY]?: Runtime };

export function setRuntime(runtime: Runtime | undefined): void {
  (globalThis as Slot)[KEY] = runtime;
}

/** @throws AppError("unavailable") when the runtime is not (or no longer) running. */
export function getRuntime(): Runtime {
  const runtime = (globalThis as Slot)[KEY];
  if (!runtime) throw new AppError("unavailable", "the Laneboard runtime is not running (start the server with `npm start`)");
  return runtime;
}
