/**
 * The Socket.IO message catalog: `{ EVENT: schema }` for each direction. The Socket.IO server
 * and client types are derived from it, and every incoming payload is `safeParse`d.
 * Names are `domain:verb`; rooms come from {@link laneRoom}.
 */
import { z } from "zod";
import { LogLineSchema } from "./api";
import { LaneEventSchema, type LaneEvent } from "./lane-events";
import type { PackedChunk } from "./log-chunk";

/** A binary attachment: Socket.IO delivers a Buffer in Node and an ArrayBuffer in the browser. */
const BinarySchema = z.custom<Uint8Array | ArrayBuffer>((v) => v instanceof Uint8Array || v instanceof ArrayBuffer, "expected binary data");

/** One chunk's header in `process:output` (see {@link PackedChunk}). */
export const PackedChunkSchema = z.object({
  laneId: z.string(),
  processId: z.string(),
  stream: z.enum(["stdout", "stderr"]),
  offset: z.number().int().min(0),
  lines: z.number().int().min(0),
  seq: z.number().int(),
  ts: z.number(),
  length: z.number().int().min(0),
}) satisfies z.ZodType<PackedChunk>;

export const laneRoom = (laneId: string) => `lane:${laneId}`;
export const BOARD_ROOM = "board";
/** The room of a repo's lane events, for connections whose token is limited to repos. */
export const repoRoom = (repoId: string) => `repo:${repoId}`;

export const ServerToClient = {
  /** A lane event, sent to the board room (every client watching the board). */
  "lane:event": LaneEventSchema,
  /**
   * New output of the lanes this client subscribed to, in order per process: chunks of whole
   * lines packed into one binary attachment (unpack with `unpackOutput`, decode with
   * `decodeChunk`; lib/log-chunk.ts).
   */
  "process:output": z.object({ items: z.array(PackedChunkSchema), data: BinarySchema }),
  /**
   * A process's partial last line (output with no newline yet, e.g. a prompt) that has stayed
   * unchanged for a moment: show it after the process's lines until a line of that stream reaches
   * `offset` (the completed line starts there) or a newer partial replaces it. Not a line: it is
   * never counted or kept. `text` is the UTF-8 decoding of at most its last 16 KiB.
   */
  "process:partial": z.object({
    laneId: z.string(),
    processId: z.string(),
    stream: z.enum(["stdout", "stderr"]),
    offset: z.number().int().min(0),
    text: z.string(),
  }),
  /** This subscriber fell behind and `count` lines were not sent to it (the log file keeps them). */
  "process:dropped": z.object({ laneId: z.string(), processId: z.string(), count: z.number().int() }),
} as const;

export const ClientToServer = {
  /** Join a lane's room; the ack carries the recent tail so live lines continue from it. */
  "lane:subscribe": z.object({
    laneId: z.string().min(1),
    tail: z.number().int().min(0).max(5000).default(200),
    /**
     * ms the lane's live output may be held to be sent with more (0: as it is read). A view that
     * shows output at a glance, a few times a second (a board card), asks for its own pace:
     * every line still comes, in order, in a few messages a second instead of one per write.
     */
    everyMs: z.number().int().min(0).max(1000).default(0),
  }),
  "lane:unsubscribe": z.object({ laneId: z.string().min(1) }),
} as const;

export const SubscribeAckSchema = z.union([
  z.object({ ok: z.literal(true), lines: z.array(LogLineSchema) }),
  z.object({ ok: z.literal(false), error: z.object({ code: z.string(), message: z.string() }) }),
]);
export type SubscribeAck = z.infer<typeof SubscribeAckSchema>;

type Payload<T> = T extends z.ZodType ? z.infer<T> : never;

export type ServerToClientEvents = {
  [K in Exclude<keyof typeof ServerToClient, "lane:event">]: (payload: Payload<(typeof ServerToClient)[K]>) => void;
} & {
  /** Typed as the discriminated {@link LaneEvent} (the schema's inferred type loses the pairing of type and payload). */
  "lane:event": (payload: LaneEvent) => void;
};
export type ClientToServerEvents = {
  "lane:subscribe": (payload: z.input<(typeof ClientToServer)["lane:subscribe"]>, ack: (res: SubscribeAck) => void) => void;
  "lane:unsubscribe": (payload: z.input<(typeof ClientToServer)["lane:unsubscribe"]>) => void;
};
