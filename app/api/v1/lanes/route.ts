import { LaneListQuerySchema, LanePageSchema } from "@/lib/api";
import { TaskPacketSchema } from "@/lib/task-packet";
import { readBody, readQuery, route } from "../../_lib/handler";
import { assertMayUseRepo, repoFilterFor } from "../../_lib/repo-reach";

export const dynamic = "force-dynamic";

/** GET /api/v1/lanes[?repoId=&limit=&cursor=] → { items: LaneView[], next }: lanes in creation order, one page (lib/paging.ts); a repo-limited token sees its repos' lanes */
export const GET = route(async ({ req, rt, caller }) => {
  const query = readQuery(req, LaneListQuerySchema);
  return LanePageSchema.parse(await rt.lanes.page({ ...query, repoId: repoFilterFor(caller, query.repoId) }));
}, { scope: "read" });

/** POST /api/v1/lanes <TaskPacket> → 201 LaneView (queued or already starting) */
export const POST = route(async ({ req, rt, caller }) => {
  const packet = await readBody(req, TaskPacketSchema);
  await assertMayUseRepo(rt, caller, packet.repo);
  return rt.lanes.create(packet);
}, { scope: "control", status: 201, idempotent: true });
