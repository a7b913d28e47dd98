import { describe, expect, it } from "vitest";
import { EventBus } from "./event-bus";

describe("EventBus requests", () => {
  it("answers a request with its one handler's result, and rejects when none is registered", async () => {
    const bus = new EventBus();
    await expect(bus.request("lane.start", { laneId: "a" })).rejects.toThrow(/no handler for the bus request lane.start/);
    const off = bus.handle("lane.start", async ({ laneId }) => laneId === "a");
    expect(await bus.request("lane.start", { laneId: "a" })).toBe(true);
    expect(await bus.request("lane.start", { laneId: "b" })).toBe(false);
    off();
    await expect(bus.request("lane.start", { laneId: "a" })).rejects.toThrow(/no handler/);
  });

  it("refuses a second handler for the same request and passes the handler's rejection on", async () => {
    const bus = new EventBus();
    bus.handle("lane.restart", async () => {
      throw new Error("still live");
    });
    expect(() => bus.handle("lane.restart", async () => undefined)).toThrow(/already has a handler/);
    await expect(bus.request("lane.restart", { laneId: "x", by: "api" })).rejects.toThrow("still live");
  });
});
