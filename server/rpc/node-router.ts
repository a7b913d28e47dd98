/**
 * Verbs that only the node running a lane (or a process) can carry out: kill its process group,
 * type a prompt into its agent's terminal, write its stdin, read its log files. {@link NodeRouter.at}
 * runs the verb here when this node owns the target, and otherwise asks the owner through the
 * cluster RPC, whose handler (registered with {@link NodeRouter.serve}) runs the same local verb
 * there. One hop only: a node asked by another that finds the target is not its own either (it
 * moved meanwhile) answers `conflict` instead of forwarding again.
 */
import { z } from "zod";
import { AppError } from "@/lib/errors";
import type { Db } from "../store/db";
import type { ClusterRpc } from "./rpc";

/** Wire shape of a routed verb: its parameters, and whether another node sent it. */
const RoutedSchema = z.object({ params: z.unknown(), forwarded: z.boolean() });

export class NodeRouter {
  /** Verbs in flight that another node sent here (so they are not forwarded again). */
  readonly #incoming = new Set<string>();

  constructor(
    private readonly rpc: ClusterRpc,
    private readonly db: Db,
  ) {}

  get nodeId(): string {
    return this.rpc.nodeId;
  }

  /** The node of a lane (null: not started yet, or from before nodes: this one). */
  async laneNode(laneId: string): Promise<string | null> {
    return (await this.db.lane.findUnique({ where: { id: laneId }, select: { nodeId: true } }))?.nodeId ?? null;
  }

  /** The node whose supervisor ran a process (null: from before nodes: this one). */
  async processNode(processId: string): Promise<string | null> {
    return (await this.db.process.findUnique({ where: { id: processId }, select: { nodeId: true } }))?.nodeId ?? null;
  }

  /**
   * Run `local()` when `owner` is this node (or null), else ask `owner` to run `method`.
   * @param key identifies the target (lane or process id): a verb forwarded here runs locally
   * @throws AppError("conflict") when a forwarded verb reaches a node that does not own the target;
   *   AppError("unavailable") when the owner does not answer; whatever the verb throws
   */
  async at<R>(owner: string | null, method: string, key: string, params: unknown, local: () => Promise<R>): Promise<R> {
    if (owner === null || owner === this.nodeId) return local();
    if (this.#incoming.has(`${method}:${key}`)) throw new AppError("conflict", `${key} is not on node ${this.nodeId} (it moved to ${owner}); try again`);
    return this.rpc.call<R>(owner, method, { params, forwarded: true });
  }

  /**
   * Handle `method` sent by other nodes: parse the params with `schema`, then run `fn` (which
   * calls the same routed verb, now local).
   */
  serve<P>(method: string, schema: z.ZodType<P>, keyOf: (p: P) => string, fn: (p: P) => Promise<unknown>): void {
    this.rpc.handle(method, RoutedSchema, async ({ params }) => {
      const p = schema.parse(params);
      const key = `${method}:${keyOf(p)}`;
      this.#incoming.add(key);
      try {
        return await fn(p);
      } finally {
        this.#incoming.delete(key);
      }
    });
  }
}
