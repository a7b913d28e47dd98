/**
 * The node list of `GET /api/v1/nodes` (docs/scale-out.md): every Laneboard server on the
 * database, as the board and claws see it.
 */
import { z } from "zod";

/**
 * A node: one Laneboard server on the database (docs/scale-out.md). `alive`: its heartbeat is
 * within its lease by the database's clock; `leader`: it runs the cluster's scheduler.
 */
export const NodeViewSchema = z.object({
  id: z.string(),
  host: z.string(),
  pid: z.number().int(),
  dataDir: z.string(),
  url: z.string().nullable(),
  capacity: z.number().int().describe("Lanes it runs at once (--worker-cap)"),
  running: z.number().int().describe("Its lanes starting or running now"),
  repos: z.array(z.string()).nullable().describe("Repos it accepts (ids, names or paths); null: any"),
  engines: z.array(z.string()).nullable().describe("Engines it accepts; null: any"),
  schemaVersion: z.string(),
  status: z.enum(["alive", "stopped", "lost"]),
  alive: z.boolean(),
  leader: z.boolean(),
  leaseMs: z.number().int(),
  clockSkewMs: z.number().int().describe("Its clock minus the database's, ms"),
  startedAt: z.string(),
  heartbeatAt: z.string(),
  heartbeatAgeMs: z.number().int(),
});
export type NodeView = z.infer<typeof NodeViewSchema>;
export const NodesResponseSchema = z.object({ self: z.string(), nodes: z.array(NodeViewSchema) });
export type NodesResponse = z.infer<typeof NodesResponseSchema>;
