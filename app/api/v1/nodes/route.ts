import { NodesResponseSchema } from "@/lib/node-view";
import { route } from "../../_lib/handler";

export const GET = route(async ({ rt }) => rt.cluster.nodes(), {
  scope: "read",
  summary: "Every server (node) on this database",
  description: "Each node's heartbeat, capacity, running lanes, the repos and engines it accepts, schema version, clock skew, and which one leads (docs/scale-out.md). On SQLite there is one node.",
  response: NodesResponseSchema,
});
