import { z } from "zod";
import { TaskPacketSchema } from "@/lib/task-packet";
import { readBody, readQuery, route } from "../../_lib/handler";
import { assertMayUseRepo, repoFilterFor } from "../../_lib/repo-reach";

export const dynamic = "force-dynamic";

/** GET /api/v1/lanes[?repoId=] → LaneView[] */
export const GET = route(async ({ req, rt, caller }) => {
  const { repoId } = readQuery(req, z.object({ repoId: z.string().optional() }));
  return rt.lanes.list({ repoId: repoFilterFor(caller, repoId) });
}, { scope: "read" });

/** POST /api/v1/lanes <TaskPacket> → 201 LaneView (queued or already starting) */
export const POST = route(async ({ req, rt, caller }) => {
  const packet = await readBody(req, TaskPacketSchema);
  await assertMayUseRepo(rt, caller, packet.repo);
  return rt.lanes.create(packet);
}, { scope: "control", status: 201, idempotent: true });
