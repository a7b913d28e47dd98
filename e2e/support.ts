/**
 * E2E helpers: talk to the server's API and inspect real processes through /proc, so tests
 * check what the OS says, not what the UI claims.
 */
import fs from "node:fs";
import type { APIRequestContext } from "@playwright/test";
import type { BoardResponse, LaneView, ProcessView } from "@/lib/api";

export async function board(request: APIRequestContext): Promise<BoardResponse> {
  const res = await request.get("/api/v1/board");
  if (!res.ok()) throw new Error(`GET /api/v1/board → ${res.status()}`);
  return (await res.json()) as BoardResponse;
}

export async function lane(request: APIRequestContext, id: string): Promise<LaneView> {
  return (await (await request.get(`/api/v1/lanes/${id}`)).json()) as LaneView;
}

export async function processView(request: APIRequestContext, id: string): Promise<ProcessView> {
  return (await (await request.get(`/api/v1/processes/${id}`)).json()) as ProcessView;
}

/** Pids of every live process whose process group is `pgid` (field 5 of /proc/<pid>/stat). */
export function pidsInGroup(pgid: number): number[] {
  const pids: number[] = [];
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue; // exited while we looked
    }
    // comm (field 2) may contain spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const state = fields[0];
    if (Number(fields[2]) === pgid && state !== "Z") pids.push(Number(name));
  }
  return pids;
}
