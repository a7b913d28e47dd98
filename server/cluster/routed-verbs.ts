/**
 * The verbs other nodes may ask of this one (server/cluster/node-router.ts): each parses its
 * parameters and calls the same service verb, which runs here because this node owns the target.
 */
import { z } from "zod";
import type { LaneService } from "../lanes/lane-service";
import type { ProcessSupervisor } from "../processes/supervisor";
import type { WorkerService } from "../workers/worker-service";
import type { NodeRouter } from "../rpc/node-router";

const Id = z.string().min(1).max(200);

export function serveRoutedVerbs(router: NodeRouter, s: { lanes: LaneService; workers: WorkerService; supervisor: ProcessSupervisor }): void {
  router.serve("lane.kill", z.object({ laneId: Id, graceMs: z.number().int().min(0).optional(), by: z.string().optional() }), (p) => p.laneId, (p) =>
    s.lanes.kill(p.laneId, { graceMs: p.graceMs, by: p.by }),
  );
  router.serve("lane.logs", z.object({ laneId: Id, limit: z.number().int().min(1), processId: Id.optional() }), (p) => p.laneId, (p) =>
    s.lanes.logs(p.laneId, { limit: p.limit, processId: p.processId }),
  );
  router.serve("worker.prompt", z.object({ laneId: Id, text: z.string() }), (p) => p.laneId, (p) => s.workers.prompt(p.laneId, p.text));
  router.serve("worker.trust", z.object({ laneId: Id, by: z.string() }), (p) => p.laneId, (p) => s.workers.resolveTrust(p.laneId, p.by));
  router.serve("process.stdin", z.object({ processId: Id, data: z.string() }), (p) => p.processId, (p) => s.supervisor.writeStdin(p.processId, p.data));
  router.serve(
    "process.readLog",
    z.object({
      processId: Id,
      q: z.object({ stream: z.enum(["stdout", "stderr"]), from: z.number().optional(), to: z.number().optional(), fromLine: z.number().optional(), limit: z.number().optional() }),
    }),
    (p) => p.processId,
    (p) => s.supervisor.readLog(p.processId, p.q),
  );
}
