/**
 * Attack: bodies meant to exhaust or crash the server, or to slip past validation: a huge body
 * (declared, and sent chunked with no declared length), deeply nested JSON and YAML, a NUL byte
 * in a repo path, text that is not JSON. Each gets its 4xx with the error shape, the server's
 * state is as before, and a legit client is served afterwards.
 */
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { MAX_BODY_BYTES, MAX_BODY_DEPTH } from "@/lib/request-limits";
import { expectError, type Answer, startSecurityServer, type SecurityServer } from "./harness";

let s: SecurityServer;
let before: string;

beforeAll(async () => {
  s = await startSecurityServer();
  before = await s.fingerprint();
});
afterAll(() => s?.stop());

interface Streamed {
  answer: Answer;
  /** True when the answer came while the request body was still being sent. */
  answeredMidBody: boolean;
  /** Resolves when the server has closed the connection. */
  closed: Promise<void>;
}

/** Where the last {@link streamBody} got to: said when a test fails (a hang is otherwise only "timed out"). */
const progress = { sent: 0, ended: false, answered: null as number | null, answerEnded: false, closed: false, errors: [] as string[] };
const sayProgressOnFailure = () => onTestFailed(() => console.error(`[bodies] the stream got to: ${JSON.stringify(progress)}`));

/**
 * Send `bytes` of body to `pathname` as the admin, in 64 KiB writes, ending the request only if
 * no answer came before all of it was written. `declared` sets `Content-Length` (and the request
 * is then never ended: the declared length is not reached); without it Node sends the body chunked.
 */
function streamBody(pathname: string, bytes: number, declared?: number, method = "POST"): Promise<Streamed> {
  Object.assign(progress, { sent: 0, ended: false, answered: null, answerEnded: false, closed: false, errors: [] });
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${s.token}`, "content-type": "application/json" };
    if (declared !== undefined) headers["content-length"] = String(declared);
    const req = request(s.base + pathname, { method, headers });
    let ended = false;
    const closed = new Promise<void>((r) =>
      req.once("close", () => {
        progress.closed = true;
        r();
      }),
    );
    req.on("response", (res) => {
      const answeredMidBody = !ended;
      progress.answered = res.statusCode ?? 0;
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString()));
      res.on("end", () => {
        progress.answerEnded = true;
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ answer: { status: res.statusCode ?? 0, headers: new Headers(res.headers as Record<string, string>), text, json }, answeredMidBody, closed });
      });
    });
    // The server may close the connection before the whole body is written: that is the point.
    req.on("error", (err: NodeJS.ErrnoException) => (progress.errors.push(err.code ?? err.message), ["EPIPE", "ECONNRESET"].includes(err.code ?? "") ? undefined : reject(err)));
    const chunk = Buffer.alloc(64 * 1024, "a");
    req.write("[");
    let sent = 1;
    const pump = () => {
      while (sent < bytes) {
        sent += chunk.length;
        progress.sent = sent;
        if (!req.write(chunk)) return void req.once("drain", pump);
      }
      // All of it written and still no answer. A declared length is not reached: the server must
      // answer without the rest (if it waited, the test would time out). Else end the body.
      if (declared !== undefined) return;
      ended = progress.ended = true;
      req.end("]");
    };
    pump();
  });
}

describe("oversized bodies", () => {
  it("POST /api/v1/lanes – a body declared at 50 MiB is 413 payload_too_large before it is sent, and the connection closes", async () => {
    const r = await streamBody("/api/v1/lanes", 64 * 1024, 50 * 1024 * 1024);
    expectError(r.answer, 413, "payload_too_large");
    expect(r.answeredMidBody).toBe(true);
    await r.closed;
    expect(await s.fingerprint()).toBe(before);
  });

  it("POST /api/v1/lanes – a chunked body with no declared length is cut off at 1 MiB: 413 while it is still being sent, and the connection closes", async () => {
    sayProgressOnFailure();
    const r = await streamBody("/api/v1/lanes", 8 * MAX_BODY_BYTES);
    expectError(r.answer, 413, "payload_too_large");
    expect(r.answeredMidBody).toBe(true);
    expect(r.answer.headers.get("connection")).toBe("close");
    await r.closed;
    expect(await s.fingerprint()).toBe(before);
  });

  it("PUT /api/v1/repos/:id/policy – a chunked YAML body over 1 MiB is 413 too", async () => {
    const r = await streamBody(`/api/v1/repos/${s.repoId}/policy`, 2 * MAX_BODY_BYTES, undefined, "PUT");
    expectError(r.answer, 413, "payload_too_large");
    expect(await s.fingerprint()).toBe(before);
  });
});

describe("deeply nested and malformed bodies", () => {
  const deepJson = "[".repeat(100_000) + "]".repeat(100_000);

  it(`POST /api/v1/lanes – JSON nested 100,000 levels deep is 400 bad_request (limit ${MAX_BODY_DEPTH})`, async () => {
    expectError(await s.api("/api/v1/lanes", { method: "POST", body: deepJson }), 400, "bad_request");
    const packet = s.attackPacket() as { worker: Record<string, unknown> };
    let nested: unknown = "x";
    for (let i = 0; i < MAX_BODY_DEPTH + 5; i++) nested = { a: nested };
    packet.worker.env = { DEEP: nested };
    expectError(await s.api("/api/v1/lanes", { method: "POST", body: JSON.stringify(packet) }), 400, "bad_request");
    expect(await s.fingerprint()).toBe(before);
  });

  it("POST /api/v1/lanes – a body that is not JSON under a JSON content type is 400 bad_request", async () => {
    for (const body of ["{", "touch /tmp/x", "\u0000", '{"objective":"x",}']) {
      expectError(await s.api("/api/v1/lanes", { method: "POST", body }), 400, "bad_request", JSON.stringify(body));
    }
    expect(await s.fingerprint()).toBe(before);
  });
});

describe("afterwards", () => {
  it("a legit client is served, its packet sent chunked as well as with a length", async () => {
    expect((await s.api("/api/v1/board")).status).toBe(200);
    const packet = JSON.stringify(s.attackPacket("legit/chunked"));
    const chunked = await s.api("/api/v1/lanes", {
      method: "POST",
      body: new Blob([packet]).stream(),
      duplex: "half",
    } as RequestInit);
    expect(chunked.status, chunked.text).toBe(201);
    const plain = await s.api("/api/v1/lanes", { method: "POST", body: JSON.stringify({ ...s.attackPacket("legit/plain"), objective: "legit" }) });
    expect(plain.status, plain.text).toBe(201);
  });
});
