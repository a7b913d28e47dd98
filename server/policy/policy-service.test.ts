/**
 * PolicyService's safety poll: a policy file changed while the kernel refused the watch (as
 * fs.watch does when the user's inotify watches have run out: it throws ENOSPC) is still read,
 * and a bad file is rejected once, not on every poll.
 */
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { LaneEvent } from "@/lib/lane-events";
import { EventBus } from "../events/event-bus";
import { EventLog } from "../events/event-log";
import { initRepo, tempDirPerTest } from "../git/git.testing";
import { POLICY_BAD_ACTION, POLICY_NO_AUTO_MERGE, writePolicyFile } from "../recovery/lane-fixtures.testing";
import { closeDatabase, openDatabase } from "../store/db";
import { PolicyService } from "./policy-service";

const tmp = tempDirPerTest("laneboard-policy-poll-");
afterEach(() => vi.restoreAllMocks());

const good = POLICY_NO_AUTO_MERGE;
const bad = POLICY_BAD_ACTION;

describe("PolicyService safety poll", () => {
  it("reads a policy file changed while the kernel refused the watch, and rejects a bad one once", async () => {
    const repoPath = await initRepo(path.join(tmp.dir, "repo"));
    const db = await openDatabase(path.join(tmp.dir, "data"));
    const bus = new EventBus();
    const events = new EventLog(db, bus);
    const seen: LaneEvent[] = [];
    bus.on("lane.event", (e) => void seen.push(e));
    const next = (type: string) => new Promise<LaneEvent>((resolve) => bus.on("lane.event", (e) => void (e.type === type && resolve(e))));
    const refused = vi.spyOn(fs, "watch").mockImplementation(() => {
      throw Object.assign(new Error("ENOSPC: System limit for number of file watchers reached, watch"), { code: "ENOSPC" });
    });
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const service = new PolicyService({ db, events, dataDir: path.join(tmp.dir, "data"), safetyPollMs: 20 });
    try {
      await db.repo.create({ data: { id: "r", path: repoPath, name: "r", mainBranch: "main" } });
      await service.start();
      expect(refused).toHaveBeenCalled();
      expect(service.store.get("r").source).toBe("defaults");

      let loaded = next("policy.loaded");
      await writePolicyFile(repoPath, good);
      expect((await loaded).payload).toMatchObject({ source: "file" });
      expect(service.store.get("r").rules[0]?.id).toBe("no-auto-merge");

      const rejected = next("policy.rejected");
      await writePolicyFile(repoPath, bad);
      expect((await rejected).payload).toMatchObject({ source: "file", errors: [{ line: 6 }] });
      expect(service.store.get("r").rules[0]?.id, "the previous rules stay").toBe("no-auto-merge");

      // Polls go on while the bad file stays; the next event is the fix, with no second rejection before it.
      loaded = next("policy.loaded");
      await writePolicyFile(repoPath, good.replace("never merge", "do not merge"));
      await loaded;
      expect(seen.map((e) => e.type)).toEqual(["policy.loaded", "policy.rejected", "policy.loaded"]);
    } finally {
      service.stop();
      await closeDatabase(db);
    }
  });
});
