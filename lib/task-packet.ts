/**
 * The task packet: the typed description of a lane's work (see docs/domain.md).
 * Validated here, stored as JSON on the Lane row, replayable. Both the API and the runtime
 * parse with {@link TaskPacketSchema}.
 */
import { z } from "zod";
import { ArtifactSchema, BudgetSchema, DeadlineInputSchema, DependencyModeSchema, IdSchema, LanePoolSchema, PrioritySchema } from "./scheduling";

export const GREEN_LEVELS = ["targeted", "package", "workspace", "merge_ready"] as const;
export const GreenLevelSchema = z.enum(GREEN_LEVELS);
export type GreenLevel = z.infer<typeof GreenLevelSchema>;

export const ENGINES = ["script", "shell", "claude", "codex", "anthropic"] as const;
export const EngineSchema = z.enum(ENGINES);
export type Engine = z.infer<typeof EngineSchema>;

/**
 * What the board and the server both know of each engine. `agent`: a coding agent (it talks to a
 * model API and holds a conversation); `resumes`: a follow-up can continue its ended session. How
 * each engine is run is the server's engine registry (server/engines/engine-command.ts), which
 * takes these two facts from here.
 */
export const ENGINE_TRAITS = {
  script: { agent: false, resumes: false },
  shell: { agent: false, resumes: false },
  claude: { agent: true, resumes: true },
  codex: { agent: true, resumes: true },
  anthropic: { agent: true, resumes: false },
} as const satisfies Record<Engine, { agent: boolean; resumes: boolean }>;

/** True for an engine run by a coding agent; false for `shell`, `script` and a name that is no engine. */
export function isAgentEngine(engine: string): boolean {
  return Object.hasOwn(ENGINE_TRAITS, engine) && ENGINE_TRAITS[engine as Engine].agent;
}

/** True for an engine whose ended session a follow-up prompt can continue. */
export function engineResumes(engine: string): boolean {
  return Object.hasOwn(ENGINE_TRAITS, engine) && ENGINE_TRAITS[engine as Engine].resumes;
}

/**
 * A git branch name Laneboard will create. Stricter than `git check-ref-format --branch` on
 * purpose (no shell or ref metacharacters at all), and every name it accepts git accepts too, so
 * no git process is needed to check one: with only letters, digits and `. _ / + -`, rules 3–10
 * of git-check-ref-format(1) (no `..`, no control characters, space, `~ ^ : ? * [ \`, no
 * leading, trailing or double `/`, no trailing `.`, no `@{`, not `@`) hold by construction,
 * rule 1 is checked per component (none starts with `.` or ends with `.lock`), and `--branch`'s
 * own refusals are added: a leading `-` (it would read as an option) and the name `HEAD`.
 * server/git/repo.test.ts compares it with git itself.
 */
export const BranchNameSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9._/+-]+$/, "may contain only letters, digits and . _ / + -")
  .refine((s) => !s.startsWith("-"), "must not start with '-'")
  .refine((s) => !s.includes(".."), "must not contain '..'")
  .refine((s) => !s.startsWith("/") && !s.endsWith("/") && !s.includes("//"), "must not start or end with '/' or contain '//'")
  .refine((s) => !s.endsWith(".") && !s.split("/").some((p) => p.startsWith(".") || p.endsWith(".lock")), "must not end with '.', nor have a component starting with '.' or ending with '.lock'")
  .refine((s) => s !== "HEAD", "must not be 'HEAD'")
  .describe("Branch name, e.g. lane/fix-login");

/**
 * The name of a branch that already exists (the base a lane starts from, e.g. a repo's main
 * branch): anything git itself allows, per git-check-ref-format(1) rules 1–10 for a branch
 * under `refs/heads/`, so `release;v2` or `ci$x` work. Laneboard never builds a shell string
 * from it and passes it to git only after `--end-of-options` or as `refs/heads/<name>`; the
 * stricter {@link BranchNameSchema} still applies to branches Laneboard creates. A leading `-`
 * is refused as well (it would read as an option in tools without `--end-of-options`).
 */
export const ExistingBranchNameSchema = z
  .string()
  .min(1)
  .max(255)
  // rule 4/5: no control characters, space, ~ ^ : ? * [ \; rule 8: no "@{"; rule 9: not "@"
  .refine((s) => !/[\x00-\x20\x7f~^:?*[\\]/.test(s) && !s.includes("@{") && s !== "@", "must not contain spaces, control characters, ~ ^ : ? * [ \\ or '@{', nor be '@'")
  .refine((s) => !s.startsWith("-"), "must not start with '-'")
  .refine((s) => !s.includes(".."), "must not contain '..'")
  .refine((s) => !s.startsWith("/") && !s.endsWith("/") && !s.includes("//"), "must not start or end with '/' or contain '//'")
  .refine((s) => !s.endsWith(".") && !s.split("/").some((p) => p.startsWith(".") || p.endsWith(".lock")), "must not end with '.', nor have a component starting with '.' or ending with '.lock'")
  .describe("An existing branch, e.g. main");

/** Argument vector; the first element is the program. Never joined into a shell string. */
export const ArgvSchema = z.array(z.string().max(100_000)).min(1).max(1000).describe("Program and arguments, e.g. [\"npm\", \"test\"]");

/** One step of the deterministic `script` engine (server/engines/script-agent). */
export const ScriptStepSchema = z.discriminatedUnion("op", [
  z.object({ op: z.literal("write"), path: z.string().min(1), content: z.string() }).describe("Write a file relative to the worktree"),
  z.object({ op: z.literal("append"), path: z.string().min(1), content: z.string() }),
  z.object({ op: z.literal("commit"), message: z.string().min(1) }).describe("git add -A && git commit"),
  z.object({ op: z.literal("run"), argv: ArgvSchema, allowFailure: z.boolean().default(false) }),
  z.object({ op: z.literal("say"), text: z.string() }).describe("Print a line"),
  z.object({
    op: z.literal("progress"),
    count: z.number().int().min(1).max(1_000_000),
    intervalMs: z.number().int().min(0).max(60_000),
    text: z.string().default("working"),
  }).describe("Print `count` progress lines, `intervalMs` apart"),
  z.object({ op: z.literal("exit"), code: z.number().int().min(0).max(255) }),
]);
export type ScriptStep = z.infer<typeof ScriptStepSchema>;

export const WorkerSpecSchema = z
  .object({
    engine: EngineSchema,
    /** For `shell` (required) and as an override of the engine binary for the others. */
    command: ArgvSchema.optional(),
    /** For agent engines: the prompt. */
    prompt: z.string().min(1).max(200_000).optional(),
    /** For `script`: the steps. */
    script: z.array(ScriptStepSchema).min(1).max(10_000).optional(),
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).default({}),
    /** `interactive`: the agent's terminal UI in tmux, behind the folder-trust gate (server/workers/interactive-driver.ts); `claude` only. */
    mode: z.enum(["headless", "interactive"]).default("headless"),
  })
  .superRefine((w, ctx) => {
    if (w.mode === "interactive" && w.engine !== "claude") ctx.addIssue({ code: "custom", path: ["mode"], message: "interactive mode is available for the claude engine only" });
    if (w.engine === "shell" && !w.command) ctx.addIssue({ code: "custom", path: ["command"], message: "the shell engine needs a command" });
    if (w.engine === "script" && !w.script) ctx.addIssue({ code: "custom", path: ["script"], message: "the script engine needs script steps" });
    if ((w.engine === "claude" || w.engine === "codex" || w.engine === "anthropic") && !w.prompt)
      ctx.addIssue({ code: "custom", path: ["prompt"], message: `the ${w.engine} engine needs a prompt` });
  });
export type WorkerSpec = z.infer<typeof WorkerSpecSchema>;

export const AcceptanceCheckSchema = z.object({
  level: GreenLevelSchema.default("targeted"),
  argv: ArgvSchema,
  timeoutMs: z.number().int().min(100).max(6 * 3600_000).default(10 * 60_000),
});
export type AcceptanceCheck = z.infer<typeof AcceptanceCheckSchema>;

/**
 * Commit and merge policy of a lane (optional): a merge can require the green level that suits
 * the lane's kind of work (docs/domain.md, "Green levels"). The repo's policy rules decide *whether* to merge
 * automatically; this says at which green level the lane counts as merge-ready and how it lands.
 */
export const MergePolicySchema = z
  .object({
    requiredLevel: GreenLevelSchema.default("merge_ready").describe("Green level the lane must reach to be merge-ready"),
    strategy: z.enum(["ff", "merge", "squash"]).optional().describe("How the lane lands on its base; default: the repo policy's"),
    cleanup: z.boolean().optional().describe("Remove the worktree and branch after merging; default: the repo policy's"),
  })
  .strict();
export type MergePolicy = z.infer<typeof MergePolicySchema>;

export const TaskPacketSchema = z.object({
  objective: z.string().trim().min(1, "objective must not be empty").max(10_000).describe("What the lane must achieve"),
  repo: z.string().min(1).describe("Repo id or registered repo path"),
  baseBranch: ExistingBranchNameSchema.optional().describe("Defaults to the repo's main branch"),
  branch: BranchNameSchema.describe("New branch created for the lane, e.g. lane/fix-login"),
  scope: z.array(z.string()).max(1000).default([]).describe("Paths the lane is expected to touch"),
  worker: WorkerSpecSchema,
  acceptance: z.array(AcceptanceCheckSchema).max(100).default([]).describe("Acceptance test commands, run in the worktree after the worker finishes"),
  merge: MergePolicySchema.optional().describe("Merge readiness level and strategy (added, optional)"),
  // Scheduling (added, all optional; lib/scheduling.ts, server/scheduler). Defaults: pool agent,
  // priority 0, no deadline, no dependencies (wait_all), no artifact, no budget, no parent.
  pool: LanePoolSchema.optional(),
  priority: PrioritySchema.optional(),
  deadline: DeadlineInputSchema.nullable().optional(),
  dependsOn: z.array(IdSchema).max(500).optional().describe("Ids of lanes of the same repo that must settle first (see mode)"),
  mode: DependencyModeSchema.optional(),
  artifact: ArtifactSchema.optional().describe("What every dependency must have produced on its branch"),
  budget: BudgetSchema.optional().describe("Token/cost budget of this lane (its child lanes' usage counts too)"),
  parentId: IdSchema.optional().describe("The lane that spawned this one (fan-out); its usage rolls up to the parent"),
});
/** The packet as accepted (defaults applied). */
export type TaskPacket = z.infer<typeof TaskPacketSchema>;
/** The packet as a client may send it. */
export type TaskPacketInput = z.input<typeof TaskPacketSchema>;
