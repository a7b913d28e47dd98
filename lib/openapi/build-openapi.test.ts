import { describe, expect, it } from "vitest";
import { z } from "zod";
import { EventsQuerySchema, LaneViewSchema } from "../api";
import { TaskPacketSchema } from "../task-packet";
import { buildOpenApi } from "./build-openapi";

describe("buildOpenApi", () => {
  it("generates operations with parameters, bodies, responses, errors and the bearer scheme from zod schemas", () => {
    const doc = buildOpenApi(
      [
        { method: "post", path: "/api/v1/lanes", summary: "Create a lane", scope: "control", body: TaskPacketSchema, status: 201, response: LaneViewSchema, errors: ["not_found", "branch_exists"] },
        { method: "get", path: "/api/v1/lanes/{id}", summary: "One lane", scope: "read", params: z.object({ id: z.string() }), response: LaneViewSchema, errors: ["not_found"] },
        { method: "get", path: "/api/v1/events", summary: "Events", query: EventsQuerySchema, response: z.object({ cursor: z.number() }) },
        { method: "get", path: "/api/v1/events/stream", summary: "Event stream", stream: "text/event-stream" },
      ],
      "1.2.3",
    );
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.components?.securitySchemes).toEqual({ bearer: expect.objectContaining({ type: "http", scheme: "bearer" }) });
    const create = doc.paths!["/api/v1/lanes"]!.post!;
    expect(create.security).toEqual([{ bearer: ["control"] }]);
    expect(Object.keys(create.responses!)).toEqual(expect.arrayContaining(["201", "404", "409", "401", "422", "500"]));
    const body = (create.requestBody as { content: Record<string, { schema: { required?: string[] } }> }).content["application/json"]!.schema;
    expect(body.required).toEqual(expect.arrayContaining(["objective", "repo", "branch", "worker"]));
    const get = doc.paths!["/api/v1/lanes/{id}"]!.get!;
    expect(get.parameters).toEqual([expect.objectContaining({ name: "id", in: "path", required: true })]);
    const events = doc.paths!["/api/v1/events"]!.get!;
    expect((events.parameters as { name: string }[]).map((p) => p.name)).toEqual(expect.arrayContaining(["after", "before", "laneId", "types", "limit"]));
    expect(Object.keys((doc.paths!["/api/v1/events/stream"]!.get!.responses!["200"] as { content: object }).content)).toEqual(["text/event-stream"]);
  });
});
