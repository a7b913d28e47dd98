/** TrustPolicy on real directories and symlinks in a temp dir. */
import fs from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeTempDir } from "../../git/git.testing";
import { TrustPolicy } from "./trust-policy";

let tmp: { dir: string; cleanup: () => Promise<void> };
beforeEach(async () => {
  tmp = await makeTempDir("laneboard-trust-");
  for (const d of ["repos/app/sub", "repos/app-evil", "other"]) await fs.mkdir(path.join(tmp.dir, d), { recursive: true });
  await fs.symlink(path.join(tmp.dir, "repos/app"), path.join(tmp.dir, "link-to-app"));
  await fs.symlink(path.join(tmp.dir, "other"), path.join(tmp.dir, "repos/app/escape"));
});
afterEach(() => tmp.cleanup());

describe("TrustPolicy.isAllowed", () => {
  it("allows a configured folder and what is inside it, on whole path segments", async () => {
    const p = new TrustPolicy([path.join(tmp.dir, "repos/app")]);
    expect(await p.isAllowed(path.join(tmp.dir, "repos/app"))).toBe(true);
    expect(await p.isAllowed(path.join(tmp.dir, "repos/app/sub"))).toBe(true);
    expect(await p.isAllowed(path.join(tmp.dir, "repos/app-evil"))).toBe(false);
    expect(await p.isAllowed(path.join(tmp.dir, "repos"))).toBe(false);
  });

  it("compares real paths: a symlink into the repo is allowed, one out of it or a .. path is not", async () => {
    const p = new TrustPolicy([path.join(tmp.dir, "repos/app")]);
    expect(await p.isAllowed(path.join(tmp.dir, "link-to-app/sub"))).toBe(true);
    expect(await p.isAllowed(path.join(tmp.dir, "repos/app/escape"))).toBe(false);
    expect(await p.isAllowed(path.join(tmp.dir, "repos/app/../app-evil"))).toBe(false);
    // A configured root given through a symlink still matches the real folder.
    expect(await new TrustPolicy([path.join(tmp.dir, "link-to-app")]).isAllowed(path.join(tmp.dir, "repos/app/sub"))).toBe(true);
  });

  it("never allows a missing path, and an empty policy allows nothing", async () => {
    expect(await new TrustPolicy([path.join(tmp.dir, "repos/app")]).isAllowed(path.join(tmp.dir, "repos/app/missing"))).toBe(false);
    expect(await new TrustPolicy([path.join(tmp.dir, "gone")]).isAllowed(path.join(tmp.dir, "gone"))).toBe(false);
    expect(await TrustPolicy.none().isAllowed(path.join(tmp.dir, "repos/app"))).toBe(false);
  });
});
