/**
 * Test helper: the real tool outputs captured in `fixtures/` (see fixtures/README.md) with how
 * each command ended, from `fixtures/manifest.json`.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

export interface Fixture {
  name: string;
  text: string;
  command: string[];
  exitCode: number | null;
  signal: string | null;
}

const DIR = path.join(import.meta.dirname, "fixtures");
const MANIFEST = JSON.parse(readFileSync(path.join(DIR, "manifest.json"), "utf8")) as Record<string, Omit<Fixture, "name" | "text">>;

/** Names of all captured fixtures (file names, e.g. `tsc-errors.txt`). */
export const FIXTURE_NAMES: readonly string[] = Object.keys(MANIFEST);

/** One fixture with its text and exit status. @throws Error if it is not in the manifest */
export function fixture(name: string): Fixture {
  const meta = MANIFEST[name];
  if (!meta) throw new Error(`no fixture ${name} in fixtures/manifest.json`);
  return { name, text: readFileSync(path.join(DIR, name), "utf8"), command: meta.command, exitCode: meta.exitCode, signal: meta.signal };
}
