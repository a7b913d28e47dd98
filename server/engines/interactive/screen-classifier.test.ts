/**
 * The screen classifier on real screens: each fixture is a `tmux capture-pane -p -J` of the
 * real Claude Code 2.1.197 (against the local model server), dash or bash, with trailing spaces
 * stripped (see fixtures/README.md). `claude-trust-prompt-old-wording.txt` is the one
 * reconstruction (older builds are not installable here).
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { classifyScreen, type ScreenClass } from "./screen-classifier";

const fixture = (name: string) => fs.readFileSync(path.join(import.meta.dirname, "fixtures", name), "utf8");
const classify = (name: string) => classifyScreen(fixture(name));
/** Each named fixture classifies as `expected`. */
function expectScreens(expected: ScreenClass, ...names: string[]): void {
  for (const name of names) expect(classify(name), name).toEqual(expected);
}

describe("classifyScreen on captured screens", () => {
  it("the current folder-trust prompt, with its workspace path and the selected option", () => {
    expect(classify("claude-trust-prompt.txt")).toEqual({ kind: "trust_prompt", path: "/tmp/ia/repo", selected: 1 });
  });

  it("the older trust wording ('Do you trust the files in this folder?')", () => {
    expect(classify("claude-trust-prompt-old-wording.txt")).toEqual({ kind: "trust_prompt", path: "/home/dev/projects/billing-service", selected: 1 });
  });

  it("the API-key confirmation is a dialog with its text; the selection follows Up", () => {
    const c = classify("claude-api-key-dialog.txt");
    expect(c).toMatchObject({ kind: "dialog", selected: 2 });
    const text = (c as Extract<ScreenClass, { kind: "dialog" }>).text;
    expect(text.split("\n")).toEqual([
      "Detected a custom API key in your environment",
      "ANTHROPIC_API_KEY: sk-ant-...sk-local",
      "Do you want to use this API key?",
      "1. Yes",
      "❯ 2. No (recommended)",
      "Enter to confirm · Esc to cancel",
    ]);
    expect(classify("claude-api-key-dialog-yes-selected.txt")).toMatchObject({ kind: "dialog", selected: 1 });
  });

  it("a tool permission question is a generic dialog", () => {
    const c = classify("claude-write-permission-dialog.txt");
    expect(c).toMatchObject({ kind: "dialog", selected: 1 });
    expect((c as Extract<ScreenClass, { kind: "dialog" }>).text).toContain("Do you want to create out.txt?");
  });

  it("the input line is ready, empty or with typed or pasted text, in both permission modes", () => {
    expectScreens({ kind: "agent_ready", input: "" }, "claude-ready.txt", "claude-ready-accept-edits.txt");
    expectScreens({ kind: "agent_ready", input: "SAY-HELLO please" }, "claude-input-typed.txt");
    expectScreens({ kind: "agent_ready", input: "[Pasted text #1 +30 lines]" }, "claude-pasted-long.txt");
  });

  it("'esc to interrupt' in the footer is busy", () => {
    expectScreens({ kind: "agent_busy" }, "claude-busy.txt", "claude-busy-accept-edits.txt");
  });

  it("after an answer the agent is ready again, even with 'command not found' in a tool's output above the box", () => {
    expectScreens({ kind: "agent_ready", input: "" }, "claude-answered.txt", "claude-tool-command-not-found.txt", "claude-pasted-long-submitted.txt");
  });

  it("plain shell prompts (dash as root, bash)", () => {
    expectScreens({ kind: "shell_prompt" }, "sh-prompt.txt", "bash-prompt.txt");
  });

  it.each([
    ["sh-syntax-error.txt", '/bin/sh: 1: Syntax error: "(" unexpected'],
    ["bash-syntax-error.txt", "bash: syntax error near unexpected token `('"],
    ["sh-not-found-continuation.txt", "/bin/sh: 2: SAY-HELLO: not found"],
    ["bash-not-found-continuation.txt", "bash: SAY-HELLO: command not found"],
    // The agent exited and the shell got the keystrokes.
    ["agent-frame-then-shell.txt", "/bin/sh: 1: LANE-TASK:: not found"],
  ])("a prompt echoed into a shell (%s), with the shell's diagnostic as evidence", (name, evidence) => {
    expect(classify(name)).toEqual({ kind: "shell_prompt", evidence });
  });
});

describe("classifyScreen edge cases", () => {
  const rule = "─".repeat(40);
  it("blank or unrecognised screens are unknown", () => {
    expect(classifyScreen("")).toEqual({ kind: "unknown" });
    expect(classifyScreen("\n\n   \n")).toEqual({ kind: "unknown" });
    expect(classifyScreen("Loading… 100%\n")).toEqual({ kind: "unknown" });
  });
  it("zsh and user@host prompts", () => {
    expect(classifyScreen("zsh: command not found: Fix\nuser@host ~/repo %\n")).toEqual({ kind: "shell_prompt", evidence: "zsh: command not found: Fix" });
    expect(classifyScreen("dev@box:~/repo$")).toEqual({ kind: "shell_prompt" });
  });
  it("a trust question in the transcript above the input box is not a live prompt", () => {
    const screen = ["❯ what does 'Quick safety check: Is this a project you created or one you trust?' mean", "● It is the folder-trust prompt.", rule, "❯ ", rule, "  ? for shortcuts"].join("\n");
    expect(classifyScreen(screen)).toEqual({ kind: "agent_ready", input: "" });
  });
  it("an older boxed input line", () => {
    expect(classifyScreen(["╭──────────╮", "│ > hello  │", "╰──────────╯", "  ? for shortcuts"].join("\n"))).toEqual({ kind: "agent_ready", input: "hello" });
  });
  it("a multi-line input keeps its lines", () => {
    expect(classifyScreen([rule, "❯ first line;", "  second line", rule, "  ctrl+g to edit in Vim"].join("\n"))).toEqual({ kind: "agent_ready", input: "first line;\nsecond line" });
  });
  it("never throws on odd input", () => {
    for (const s of ["│", "│ >", "❯", `${rule}\n❯`, "❯ 1. ", "Accessing workspace:", "Do you trust the files in this folder?", "\u0000\u001b[0m"]) {
      expect(() => classifyScreen(s)).not.toThrow();
    }
  });
});
