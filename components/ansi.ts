/**
 * ANSI SGR colours → HTML for one line of process output, via `ansi-to-html` with
 * `escapeXML: true`: the text of the line is entity-encoded by the library, and the only markup
 * it emits is `<span style="…">` built from numeric colour codes. Nothing from process output
 * reaches the DOM as markup without that escaping.
 */
import Convert from "ansi-to-html";

// The xterm palette, softened for a near-black background.
const PALETTE = [
  "#3f3f46", "#f87171", "#4ade80", "#facc15", "#60a5fa", "#c084fc", "#22d3ee", "#d4d4d8",
  "#71717a", "#fca5a5", "#86efac", "#fde047", "#93c5fd", "#d8b4fe", "#67e8f9", "#fafafa",
];

const converter = new Convert({
  fg: "inherit",
  bg: "transparent",
  newline: false,
  escapeXML: true,
  stream: false,
  colors: Object.fromEntries(PALETTE.map((c, i) => [i, c])),
});

/**
 * The visible part of a terminal line: what follows the last carriage return (progress bars
 * redraw with `\r`), without a trailing CR from CRLF.
 */
export function visibleText(text: string): string {
  const trimmed = text.endsWith("\r") ? text.slice(0, -1) : text;
  const cr = trimmed.lastIndexOf("\r");
  return cr === -1 ? trimmed : trimmed.slice(cr + 1);
}

/** Escaped HTML for one output line, with ANSI colours as inline styles. */
export function ansiLineToHtml(text: string): string {
  return converter.toHtml(visibleText(text));
}
