/**
 * The two routes of a scheduler setting (caps, budgets, rate limits): GET reads it with scope
 * `read`; PUT changes it with scope `admin` and answers with the setting as it now is, so a client
 * sees at once what is in force. Both answers have the setting's one view schema.
 *
 * `export const { GET, PUT } = settingRoutes({ view: CapsViewSchema, update: CapsUpdateSchema }, { get: { summary, read: (rt) => … }, put: { summary, write: (rt, body) => … } })`.
 */
import type { z } from "zod";
import type { Runtime } from "@/server/runtime";
import { route, type RouteHandler } from "./handler";

/** How a setting is read and changed, with its API reference text. */
export interface SettingOperations<U extends z.ZodType> {
  get: { summary: string; description?: string; read: (rt: Runtime) => unknown };
  put: { summary: string; description?: string; write: (rt: Runtime, body: z.output<U>) => unknown };
}

/**
 * @param schemas `view`: what both routes answer; `update`: the PUT body (a failure is 422 naming the field).
 * @returns the GET and PUT handlers, each with its declaration for the OpenAPI document.
 */
export function settingRoutes<U extends z.ZodType>(schemas: { view: z.ZodType; update: U }, ops: SettingOperations<U>): { GET: RouteHandler; PUT: RouteHandler } {
  const { get, put } = ops;
  return {
    GET: route(async ({ rt }) => get.read(rt), { scope: "read", summary: get.summary, description: get.description, response: schemas.view }),
    // The declared `update` schema parsed the body, so it is that schema's output.
    PUT: route(async ({ body, rt }) => put.write(rt, body as z.output<U>), { scope: "admin", summary: put.summary, description: put.description, body: schemas.update, response: schemas.view }),
  };
}
