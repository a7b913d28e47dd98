/** TmuxServer against the real tmux binary: its guards and its answers for things that are gone. */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tmuxPerTest } from "./interactive.testing";
import { assertTmuxArg, shellQuote, TmuxServer } from "./tmux";

const srv = tmuxPerTest((socket) => new TmuxServer(socket));

describe("TmuxServer", () => {
  it("knows its version (3.0 or later) and reports a missing binary as command_not_found", async () => {
    expect(await srv.tmux.version()).toMatch(/^[3-9]\.\d+/);
    const missing = new TmuxServer(path.join(srv.dir, "x.sock"), path.join(srv.dir, "no-tmux"));
    await expect(missing.version()).rejects.toMatchObject({ code: "command_not_found" });
    await expect(missing.run([["list-sessions"]])).rejects.toMatchObject({ code: "command_not_found" });
  });

  it("refuses arguments tmux would split (a trailing ';') and overlong socket paths", async () => {
    expect(() => assertTmuxArg("a;")).toThrow(/not allowed/);
    expect(() => assertTmuxArg("a\0b")).toThrow(/not allowed/);
    expect(() => assertTmuxArg("a; b")).not.toThrow();
    await expect(srv.tmux.run([["display-message", "-p", "x\\;"]])).rejects.toMatchObject({ code: "invalid_input" });
    expect(() => new TmuxServer(`/tmp/${"x".repeat(120)}.sock`)).toThrow(/longer than 100 bytes/);
  });

  it("answers null / false / [] for a server, session or pane that does not exist", async () => {
    expect(await srv.tmux.snapshot("%99")).toBeNull();
    expect(await srv.tmux.hasSession("nope")).toBe(false);
    expect(await srv.tmux.findPane("nope")).toBeNull();
    expect(await srv.tmux.listSessions()).toEqual([]);
    expect(await srv.tmux.killSession("nope")).toBe(false);
  });

  it("creates a session and finds it by its exact name (not as a prefix)", async () => {
    const { paneId, pid } = await srv.tmux.newSession("lane-1", ["/bin/sh", "-c", "echo hello; exec sleep 1000"], { width: 80, height: 20 });
    expect(paneId).toMatch(/^%\d+$/);
    expect(pid).toBeGreaterThan(0);
    expect(await srv.tmux.listSessions()).toEqual(["lane-1"]);
    expect(await srv.tmux.hasSession("lane")).toBe(false);
    await expect(srv.tmux.newSession("lane-1", ["/bin/true", "x"], { width: 80, height: 20 })).rejects.toMatchObject({ code: "already_exists" });
    expect(await srv.tmux.findPane("lane-1")).toBe(paneId);
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });
});
