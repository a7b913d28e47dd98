/**
 * The API's access to one supervised process by id, on whichever node runs it: its stdin and its
 * log files exist only on that node (docs/scale-out.md), so those verbs go there through the
 * node router; the row is the same on every node.
 */
import type { LogPage, LogQuery } from "./log-reader";
import type { ProcessSupervisor } from "./supervisor";
import type { ProcessView } from "@/lib/api";
import type { NodeRouter } from "../rpc/node-router";

export class ProcessAccess {
  constructor(private readonly deps: { supervisor: ProcessSupervisor; router: NodeRouter }) {}

  /** @throws AppError not_found */
  get(processId: string): Promise<ProcessView> {
    return this.deps.supervisor.get(processId);
  }

  /** Write to the process's stdin (on its node). @throws AppError not_found, not_running, unavailable */
  async writeStdin(processId: string, data: string): Promise<void> {
    const owner = await this.deps.router.processNode(processId);
    await this.deps.router.at(owner, "process.stdin", processId, { processId, data }, () => this.deps.supervisor.writeStdin(processId, data));
  }

  /** A page of the process's log (read on its node). @throws AppError not_found, range_not_satisfiable, unavailable */
  async readLog(processId: string, q: LogQuery): Promise<LogPage> {
    const owner = await this.deps.router.processNode(processId);
    return this.deps.router.at(owner, "process.readLog", processId, { processId, q }, () => this.deps.supervisor.readLog(processId, q));
  }
}
