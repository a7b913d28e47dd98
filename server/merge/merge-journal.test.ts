/**
 * A server stopped in the middle of a merge, on a real runtime and a real git repository: the
 * merge's intent is on disk and the base either moved (the ref update landed) or not. The start
 * step (MergeService.recoverInterrupted, run by createRuntime before any request) records which:
 * never a base at the merge commit while the lane says "not merged", never a second merge.
 */
import { expect, it } from "vitest";
import { integrateIntoBase } from "../git/merge";
import { resolveCommit } from "../git/repo";
import { COMMIT, laneEvents, ofType, SH } from "../recovery/lane-fixtures.testing";
import { isTerminal, runtimePerFile, shellPacket, waitForLane } from "../testing/runtime-harness";
import { leftIntents, mergeTrailer, writeIntent } from "./merge-journal";

const h = runtimePerFile({ workerCap: 4 });

/** A finished lane with one commit of its own, and the base head and lane head as they are. */
async function finishedLane(file: string) {
  const lane = await h.rt.lanes.create(shellPacket(h.repoId, SH(`echo x > ${file} && git add ${file} && ${COMMIT} -m "add ${file}"`)));
  expect((await waitForLane(h.rt, lane.id, isTerminal)).state).toBe("finished");
  const [previous, head] = await Promise.all([resolveCommit(h.repoPath, "refs/heads/main"), resolveCommit(h.repoPath, `refs/heads/${lane.branch}`)]);
  return { lane, previous, head };
}

it("records lane.merged for a merge whose base moved before the server stopped, and refuses to merge it again", async () => {
  const { lane, previous, head } = await finishedLane("a.txt");
  // What merge() does up to the moment it was killed: the intent, then the ref update; no event.
  await writeIntent(h.dataDir, lane.id, { strategy: "merge", baseBranch: "main", previous, head, by: "api" });
  const res = await integrateIntoBase({ repo: h.repoPath, base: "main", branch: lane.branch, strategy: "merge", message: `Merge\n\n${mergeTrailer(lane.id)} (api).` });
  expect((await h.rt.merge.readiness(lane.id)).merged).toBe(false); // the half-recorded state a restart would find

  expect(await h.rt.merge.recoverInterrupted()).toEqual({ merged: [lane.id], notMerged: [] });
  const merged = ofType(await laneEvents(h.rt, lane.id), "lane.merged");
  expect(merged.map((e) => e.payload)).toEqual([{ strategy: "merge", baseBranch: "main", previous, sha: res.sha, by: "api", updatedWorktree: null }]);
  expect((await h.rt.merge.readiness(lane.id)).merged).toBe(true);
  await expect(h.rt.merge.merge(lane.id, { force: true })).rejects.toMatchObject({ code: "conflict" });
  expect(await resolveCommit(h.repoPath, "refs/heads/main")).toBe(res.sha); // merged once
  expect(await leftIntents(h.dataDir)).toEqual([]);
});

it("says a merge that stopped before the base moved left it untouched and the lane unmerged; merging later works once", async () => {
  const { lane, previous, head } = await finishedLane("b.txt");
  await writeIntent(h.dataDir, lane.id, { strategy: "squash", baseBranch: "main", previous, head, by: "api" });

  expect(await h.rt.merge.recoverInterrupted()).toEqual({ merged: [], notMerged: [lane.id] });
  expect(await resolveCommit(h.repoPath, "refs/heads/main")).toBe(previous);
  const warnings = ofType(await laneEvents(h.rt, lane.id), "warning").map((e) => e.payload.message);
  expect(warnings).toContainEqual(expect.stringMatching(/main is untouched and the lane is not merged/));
  expect(ofType(await laneEvents(h.rt, lane.id), "lane.merged")).toEqual([]);
  expect(await leftIntents(h.dataDir)).toEqual([]);

  const result = await h.rt.merge.merge(lane.id, { force: true, strategy: "squash" });
  expect(await resolveCommit(h.repoPath, "refs/heads/main")).toBe(result.sha);
  expect(ofType(await laneEvents(h.rt, lane.id), "lane.merged")).toHaveLength(1);
  expect(await leftIntents(h.dataDir)).toEqual([]); // a merge that completes leaves no intent behind
});
