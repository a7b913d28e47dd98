import { QueueQuerySchema, QueueViewSchema } from "@/lib/scheduling";
import { route } from "../../../_lib/handler";

export const GET = route(async ({ query, rt }) => rt.scheduler.settings.queue(query), {
  scope: "read",
  summary: "Queued lanes in dispatch order, with position and what each waits for",
  query: QueueQuerySchema,
  response: QueueViewSchema,
});
