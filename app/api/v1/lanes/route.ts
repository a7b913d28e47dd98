import { z } from "zod";
import { TaskPacketSchema } from "@/lib/task-packet";
import { readBody, readQuery, route } from "../../_lib/handler";

export const dynamic = "force-dynamic";

/** GET /api/v1/lanes[?repoId=] → LaneView[] */
export const GET = route(async ({ req, rt }) => rt.lanes.list(readQuery(req, z.object({ repoId: z.string().optional() }))), { scope: "read" });

/** POST /api/v1/lanes <TaskPacket> → 201 LaneView (queued or already starting) */
export const POST = route(async ({ req, rt }) => rt.lanes.create(await readBody(req, TaskPacketSchema)), { scope: "control", status: 201, idempotent: true });
