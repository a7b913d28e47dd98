/**
 * The "New lane" form's model: the fields a person fills, turned into a task packet
 * (lib/task-packet.ts) that the browser validates with the same zod schema as the server, and
 * errors — the schema's or the server's — mapped back to the field they belong to.
 */
import type { z } from "zod";
import { TaskPacketSchema, type TaskPacketInput } from "./task-packet";

export interface PacketFormCheck {
  level: string;
  command: string;
}

export interface PacketForm {
  repo: string;
  objective: string;
  branch: string;
  baseBranch: string;
  engine: string;
  interactive: boolean;
  prompt: string;
  /** A command line split into argv by {@link splitArgs} (never run through a shell). */
  command: string;
  /** JSON array of script steps (the `script` engine). */
  script: string;
  checks: PacketFormCheck[];
  priority: string;
  /** `datetime-local` value (local time) or empty. */
  deadline: string;
  /** Lane ids, separated by commas or spaces. */
  dependsOn: string;
  dependsMode: "wait_all" | "wait_any";
  maxTokens: string;
  maxCostUsd: string;
}

export const EMPTY_PACKET_FORM: PacketForm = {
  repo: "", objective: "", branch: "", baseBranch: "", engine: "claude", interactive: false, prompt: "", command: "", script: "",
  checks: [], priority: "", deadline: "", dependsOn: "", dependsMode: "wait_all", maxTokens: "", maxCostUsd: "",
};

/** `lane/<words-of-the-objective>`: lowercase ASCII words joined by `-`, at most 48 characters. */
export function suggestBranch(objective: string): string {
  const slug = objective
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 48)
    .replace(/-+$/g, "");
  return slug ? `lane/${slug}` : "";
}

/**
 * Split a command line into arguments: whitespace separates, single or double quotes group,
 * a backslash escapes the next character outside single quotes. No expansion of any kind: the
 * result is an argv, never given to a shell. @throws Error on an unclosed quote.
 */
export function splitArgs(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  let has = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === "\\" && quote === '"' && i + 1 < line.length) cur += line[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      has = true;
    } else if (c === "\\" && i + 1 < line.length) {
      cur += line[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (has) out.push(cur);
      cur = "";
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (quote) throw new Error(`unclosed ${quote} quote`);
  if (has) out.push(cur);
  return out;
}

const num = (s: string) => (s.trim() === "" ? undefined : Number(s));

/** Field key → message. Keys are schema paths (`worker.prompt`, `acceptance.0.argv`) or form keys. */
export type FieldErrors = Record<string, string>;

/** The packet the form describes, plus errors found before the schema runs (bad JSON, quotes). */
export function formToPacket(f: PacketForm): { packet: TaskPacketInput; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const argv = (key: string, line: string): string[] => {
    try {
      return splitArgs(line);
    } catch (err) {
      errors[key] = (err as Error).message;
      return [];
    }
  };
  const worker: Record<string, unknown> = { engine: f.engine };
  if (f.engine === "shell") worker.command = argv("worker.command", f.command);
  else if (f.engine === "script") {
    try {
      worker.script = f.script.trim() ? JSON.parse(f.script) : undefined;
    } catch {
      errors["worker.script"] = "not valid JSON (an array of steps)";
    }
  } else {
    worker.prompt = f.prompt.trim() || undefined;
    if (f.interactive) worker.mode = "interactive";
  }
  const deps = f.dependsOn.split(/[\s,]+/).filter(Boolean);
  const budget = { maxTokens: num(f.maxTokens), maxCostUsd: num(f.maxCostUsd) };
  const packet: TaskPacketInput = {
    objective: f.objective,
    repo: f.repo,
    branch: f.branch,
    ...(f.baseBranch.trim() ? { baseBranch: f.baseBranch.trim() } : {}),
    worker: worker as TaskPacketInput["worker"],
    acceptance: f.checks.map((c, i) => ({ level: c.level as "targeted", argv: argv(`acceptance.${i}.argv`, c.command) })),
    ...(num(f.priority) !== undefined ? { priority: num(f.priority) } : {}),
    ...(f.deadline ? { deadline: new Date(f.deadline).toISOString() } : {}),
    ...(deps.length ? { dependsOn: deps, mode: f.dependsMode } : {}),
    ...(budget.maxTokens !== undefined || budget.maxCostUsd !== undefined ? { budget } : {}),
  };
  return { packet, errors };
}

/** Schema issues as field errors (first message per field). */
export function issuesToFieldErrors(issues: readonly z.core.$ZodIssue[]): FieldErrors {
  const out: FieldErrors = {};
  for (const i of issues) {
    const key = i.path.map(String).join(".") || "(form)";
    out[key] ??= i.message;
  }
  return out;
}

/** Validate in the browser with the server's schema. Empty when the packet is acceptable. */
export function validatePacketForm(f: PacketForm): { packet: TaskPacketInput; errors: FieldErrors } {
  const { packet, errors } = formToPacket(f);
  const parsed = TaskPacketSchema.safeParse(packet);
  return { packet, errors: { ...(parsed.success ? {} : issuesToFieldErrors(parsed.error.issues)), ...errors } };
}

/**
 * The server's error as field errors: a 422's message is `path: message; path: message`
 * (lib/validate.ts), a 409/404 may carry `details.field`. Whatever names no field goes to `(form)`.
 */
export function serverErrorToFieldErrors(err: { message: string; details?: Record<string, unknown> }): FieldErrors {
  const out: FieldErrors = {};
  const fields = Array.isArray(err.details?.fields) ? (err.details.fields as string[]) : null;
  if (fields) {
    for (const part of err.message.split("; ")) {
      const at = part.indexOf(": ");
      const key = at > 0 ? part.slice(0, at) : "";
      if (key && fields.includes(key)) out[key] ??= part.slice(at + 2);
      else out["(form)"] = out["(form)"] ? `${out["(form)"]}; ${part}` : part;
    }
    return out;
  }
  const field = typeof err.details?.field === "string" ? err.details.field : "(form)";
  out[field] = err.message;
  return out;
}
