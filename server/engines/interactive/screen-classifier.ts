/**
 * What an interactive agent's terminal shows, decided from the text of its screen (tmux
 * `capture-pane -p -J`, one string, lines separated by "\n"). Pure: no I/O, never throws.
 *
 * Screens recognised (observed with Claude Code 2.1.197 under tmux, see ./fixtures; the older
 * trust wording is reconstructed from earlier builds' layout, not captured):
 * | kind | what is on screen |
 * | --- | --- |
 * | `trust_prompt` | "Quick safety check: Is this a project you created or one you trust?" (current) or "Do you trust the files in this folder?" (older builds), with the workspace path |
 * | `dialog` | any other box that waits for a choice: numbered options with one selected (`❯ 2. …`) or an "Enter to confirm" / "Esc to cancel" footer, e.g. "Detected a custom API key in your environment" or a tool permission question |
 * | `agent_busy` | Claude's input box with "esc to interrupt" in its footer (the model or a tool is working) |
 * | `agent_ready` | Claude's input box: a `❯` line between two horizontal rules (older builds: `│ > ` inside a box); `input` is what is typed in it ("" when empty, where the footer shows "? for shortcuts") |
 * | `shell_prompt` | a shell owns the terminal: its prompt (`$`, `#`, `%`, `>` ending the last line) or its diagnostics (`sh: 1: X: not found`, `bash: X: command not found`, `Syntax error`) below the agent's frame; `evidence` is the last such diagnostic |
 * | `unknown` | anything else (blank, starting up, a frame being redrawn) |
 *
 * Only the bottom of the screen decides: Claude draws its transcript above the input box, so a
 * "command not found" inside a tool's output (above the box) is not a shell, and a trust
 * question scrolled into the transcript is not a live prompt.
 */

export type ScreenClass =
  | { kind: "trust_prompt"; path?: string; selected?: number }
  | { kind: "dialog"; text: string; selected?: number }
  | { kind: "agent_ready"; input: string }
  | { kind: "agent_busy" }
  | { kind: "shell_prompt"; evidence?: string }
  | { kind: "unknown" };

export type ScreenKind = ScreenClass["kind"];

/** Longest dialog text reported (characters). */
export const MAX_DIALOG_TEXT = 2000;

const TRUST_CURRENT = "Quick safety check: Is this a project you created or one you trust?";
const TRUST_OLDER = "Do you trust the files in this folder?";
const API_KEY_DIALOG = /Detected a custom API key in your environment|Do you want to use this API key\?/;
/** A solid horizontal rule across the screen (Claude's separators above and below the input box). */
const RULE = /^[─━]{10,}$/;
/** A numbered option with the selection marker: `❯ 1. Yes` (possibly inside a box). */
const SELECTED_OPTION = /^(?:│\s*)?❯ (\d+)\. /;
const DIALOG_FOOTER = /Enter to confirm|Esc to cancel|Esc to exit|Tab to amend/;
/** Lines only Claude's own UI draws: rules, box edges, footers. Shell output comes after them. */
const UI_LINE = /^[─━╭╰│╌]|\? for shortcuts|esc to interrupt|Enter to confirm|Esc to cancel|Esc to exit|accept edits on|bypass permissions on|plan mode on|for agents|paste again to expand|ctrl\+g to edit/;
/** A shell's own diagnostic about the line it was given: dash `sh: 1: X: not found`, bash `bash: X: command not found`, zsh `zsh: command not found: X`, syntax errors. */
const SHELL_DIAGNOSTIC = /^-?(?:\/[\w./-]*\/)?(?:ba|da|z|k|a)?sh: (?:line )?(?:\d+: )?.*(?:not found|syntax error|unexpected|unterminated)/i;
/** A bare shell prompt as the last line: `$`, `#`, `%` (not after a digit: "100%" is progress) or a continuation `>`, after an optional `user@host:dir` or `bash-5.2`. */
const SHELL_PROMPT = /^(?:[\w.@~:/[\] -]{0,120}(?:[$#]|(?<!\d)%)|>)$/;

/** Classify one screen. See the module comment for the kinds. */
export function classifyScreen(text: string): ScreenClass {
  // Claude draws its prompt marker as "❯" + NO-BREAK SPACE; compare with plain spaces.
  const lines = text.split("\n").map((l) => l.replace(/\u00a0/g, " ").trimEnd());
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  if (lines.length === 0) return { kind: "unknown" };

  const shell = shellBelowUi(lines);
  if (shell) return shell;

  // The live dialog region is below the last solid rule (Claude opens dialogs with one); a
  // screen without rules (older boxed dialogs, plain output) is all region.
  const lastRule = findLastIndex(lines, (l) => RULE.test(l.trim()));
  const region = lines.slice(lastRule + 1).map(stripBox);
  const regionText = region.join("\n");
  const selected = selectedOption(region);

  if (regionText.includes(TRUST_CURRENT) || regionText.includes(TRUST_OLDER)) {
    const path = trustPath(region);
    return { kind: "trust_prompt", ...(path ? { path } : {}), ...(selected !== undefined ? { selected } : {}) };
  }
  if (API_KEY_DIALOG.test(regionText) || selected !== undefined || region.some((l) => DIALOG_FOOTER.test(l))) {
    return { kind: "dialog", text: dialogText(region), ...(selected !== undefined ? { selected } : {}) };
  }

  const box = inputBox(lines);
  if (box) {
    const busy = box.around.some((l) => /esc to interrupt/i.test(l));
    return busy ? { kind: "agent_busy" } : { kind: "agent_ready", input: box.input };
  }
  return { kind: "unknown" };
}

/**
 * The part of a screen above Claude's input box (its transcript), or the whole screen when there
 * is no box. A submitted prompt changes it even when the transcript has scrolled.
 */
export function transcriptAbove(text: string): string {
  const lines = text.split("\n").map((l) => l.replace(/\u00a0/g, " ").trimEnd());
  const rules = lines.flatMap((l, i) => (RULE.test(l.trim()) ? [i] : []));
  return rules.length >= 2 ? lines.slice(0, rules[rules.length - 2]).join("\n") : lines.join("\n");
}

/** A shell's prompt or diagnostics after the last line of the agent's UI (or anywhere, with no UI on screen). */
function shellBelowUi(lines: string[]): ScreenClass | null {
  const lastUi = findLastIndex(lines, (l) => UI_LINE.test(l.trim()));
  const tail = lines.slice(lastUi + 1);
  if (tail.length === 0) return null;
  const evidence = [...tail].reverse().find((l) => SHELL_DIAGNOSTIC.test(l.trim()));
  const last = lines[lines.length - 1]!.trim();
  if (evidence || SHELL_PROMPT.test(last)) return { kind: "shell_prompt", ...(evidence ? { evidence: evidence.trim() } : {}) };
  return null;
}

/**
 * Claude's input box: the last two solid rules with a `❯` line right below the first, or, in
 * older builds, a `│ > ` line inside a box. `around` holds the footer below the box and the
 * status line just above it, where "esc to interrupt" and the spinner appear.
 */
function inputBox(lines: string[]): { input: string; around: string[] } | null {
  const rules = lines.flatMap((l, i) => (RULE.test(l.trim()) ? [i] : []));
  for (let k = rules.length - 1; k >= 1; k--) {
    const top = rules[k - 1]!;
    const bottom = rules[k]!;
    const first = lines[top + 1];
    if (bottom - top < 2 || first === undefined || !/^❯(?: |$)/.test(first)) continue;
    const body = lines.slice(top + 1, bottom).map((l, i) => (i === 0 ? l.replace(/^❯ ?/, "") : l.trim()));
    return { input: body.join("\n").trim(), around: [...lines.slice(Math.max(0, top - 2), top), ...lines.slice(bottom + 1)] };
  }
  const old = findLastIndex(lines, (l) => /^│ > /.test(l) || l.trim() === "│ >");
  if (old >= 0) {
    return { input: stripBox(lines[old]!).replace(/^> ?/, "").trim(), around: [...lines.slice(Math.max(0, old - 3), old), ...lines.slice(old + 1)] };
  }
  return null;
}

/** The number of the selected option (`❯ N.`) in the region, if any. */
function selectedOption(region: string[]): number | undefined {
  for (const l of region) {
    const m = SELECTED_OPTION.exec(l.trim());
    if (m) return Number(m[1]);
  }
  return undefined;
}

/** The workspace path on a trust screen: after "Accessing workspace:" (current) or the first path-looking line after the question (older). */
function trustPath(region: string[]): string | undefined {
  const trimmed = region.map((l) => l.trim());
  const after = (i: number) => trimmed.slice(i + 1).find((l) => l !== "");
  const ws = trimmed.findIndex((l) => l.startsWith("Accessing workspace:"));
  if (ws >= 0) {
    const inline = trimmed[ws]!.slice("Accessing workspace:".length).trim();
    const p = inline || after(ws);
    if (p && /^[/~]/.test(p)) return p;
  }
  const q = trimmed.findIndex((l) => l.includes(TRUST_OLDER));
  if (q >= 0) {
    const p = after(q);
    if (p && /^[/~]/.test(p)) return p;
  }
  return undefined;
}

/** A dialog's text: its non-empty lines without box edges or dashed separators, clipped. */
function dialogText(region: string[]): string {
  const text = region
    .map((l) => l.trim())
    .filter((l) => l !== "" && !/^[╌─━]+$/.test(l) && !/^[╭╰]/.test(l))
    .join("\n");
  return text.length <= MAX_DIALOG_TEXT ? text : `${text.slice(0, MAX_DIALOG_TEXT)}…`;
}

/** A line without a surrounding box (`│ text │` → `text`), keeping inner indentation. */
function stripBox(line: string): string {
  const m = /^│(.*?)│?$/.exec(line);
  return m ? m[1]!.replace(/^ /, "").trimEnd() : line;
}

function findLastIndex<T>(xs: T[], pred: (x: T) => boolean): number {
  for (let i = xs.length - 1; i >= 0; i--) if (pred(xs[i]!)) return i;
  return -1;
}
