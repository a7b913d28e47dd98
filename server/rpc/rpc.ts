/**
 * Requests from one node to another: a kill, a prompt, stdin or a log read for a lane that runs on
 * another node, and the scheduler verbs that only the leader can answer. The domain sees
 * {@link ClusterRpc}: named methods with JSON parameters, handled on the target node by the
 * handler registered under that name. How requests travel is a {@link ClusterTransport}, provided
 * by the realtime layer (Socket.IO's server-side emit through its PostgreSQL adapter: every node
 * already shares it, and large payloads go through the adapter's attachment table), so nodes need
 * no address of each other and no second channel to secure.
 *
 * Errors keep their meaning across the hop: an AppError thrown by the handler is rethrown on the
 * caller with the same code and message; a node that does not answer is `unavailable`.
 */
import { z } from "zod";
import { AppError, isAppError, type ErrorCode } from "@/lib/errors";

/** One request on the wire. */
export const RpcRequestSchema = z.object({ to: z.string().min(1), from: z.string().min(1), method: z.string().min(1), params: z.unknown() });
export type RpcRequest = z.infer<typeof RpcRequestSchema>;

/** One answer on the wire: a result, or an error as {@link AppError} carries it. */
export type RpcAnswer = { ok: true; result: unknown } | { ok: false; error: { code: string; message: string; details?: Record<string, unknown> } };

/** How requests reach other nodes. */
export interface ClusterTransport {
  /**
   * Deliver `req` to node `req.to` and resolve with its answer, or null when no node answered
   * for it within `timeoutMs` (it is down or unknown).
   */
  send(req: RpcRequest, timeoutMs: number): Promise<RpcAnswer | null>;
}

type Handler = (params: unknown, from: string) => Promise<unknown>;

/** Default time a request may take, in ms (a kill waits for its grace period; prompts for delivery). */
export const RPC_TIMEOUT_MS = 30_000;

export class ClusterRpc {
  readonly #handlers = new Map<string, Handler>();
  #transport: ClusterTransport | null = null;

  constructor(readonly nodeId: string) {}

  /** Plug the transport in (the realtime layer, once Socket.IO is up). */
  setTransport(transport: ClusterTransport | null): void {
    this.#transport = transport;
  }

  /** Handle `method` on this node. Handlers parse their params; what they throw goes back to the caller. */
  handle<P, R>(method: string, schema: z.ZodType<P>, fn: (params: P, from: string) => Promise<R>): void {
    this.#handlers.set(method, async (params, from) => fn(schema.parse(params), from));
  }

  /**
   * Ask node `to` to run `method`. A request to this node runs its handler directly.
   * @throws AppError("unavailable") when the node does not answer or no transport is up; the
   *   handler's AppError as it threw it
   */
  async call<R>(to: string, method: string, params: unknown, timeoutMs = RPC_TIMEOUT_MS): Promise<R> {
    if (to === this.nodeId) return (await this.#run(method, params, this.nodeId)) as R;
    if (!this.#transport) throw new AppError("unavailable", `node ${to} cannot be reached: this node's cluster transport is not up`);
    const answer = await this.#transport.send({ to, from: this.nodeId, method, params }, timeoutMs);
    if (!answer) throw new AppError("unavailable", `node ${to} did not answer ${method} within ${Math.round(timeoutMs / 1000)} s (is it running?)`, { nodeId: to });
    if (answer.ok) return answer.result as R;
    throw new AppError(answer.error.code as ErrorCode, answer.error.message, answer.error.details);
  }

  /** Run an incoming request (the transport calls this on the target node). Never throws. */
  async receive(req: RpcRequest): Promise<RpcAnswer> {
    try {
      return { ok: true, result: await this.#run(req.method, req.params, req.from) };
    } catch (err) {
      if (isAppError(err)) return { ok: false, error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) } };
      if (err instanceof z.ZodError) return { ok: false, error: { code: "invalid_input", message: `bad ${req.method} request: ${err.issues[0]?.message ?? "invalid"}` } };
      console.error(`[cluster] ${req.method} from ${req.from} failed`, err);
      return { ok: false, error: { code: "internal", message: `${req.method} failed on node ${this.nodeId}` } };
    }
  }

  async #run(method: string, params: unknown, from: string): Promise<unknown> {
    const handler = this.#handlers.get(method);
    if (!handler) throw new AppError("not_found", `node ${this.nodeId} has no cluster method ${method}`);
    // JSON round trip: a local call sees exactly what a remote one would.
    const result = await handler(params, from);
    return result === undefined ? null : JSON.parse(JSON.stringify(result));
  }
}
