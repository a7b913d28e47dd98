import fs from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeTempDir } from "../git/git.testing";
import { adminTokenPath, loadOrCreateAdminToken, readAdminToken } from "./admin-token";
import { TOKEN_PATTERN } from "./secrets";

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeEach(async () => (tmp = await makeTempDir("laneboard-token-")));
afterEach(() => tmp.cleanup());

describe("admin token file", () => {
  it("is created on first start with mode 0600 and reused afterwards", async () => {
    const dataDir = path.join(tmp.dir, "data");
    const token = await loadOrCreateAdminToken(dataDir);
    expect(token).toMatch(TOKEN_PATTERN);
    expect((await fs.stat(adminTokenPath(dataDir))).mode & 0o777).toBe(0o600);
    expect(await loadOrCreateAdminToken(dataDir)).toBe(token);
    expect(await readAdminToken(dataDir)).toBe(token);
  });

  it("narrows a file readable by others to 0600", async () => {
    await fs.writeFile(adminTokenPath(tmp.dir), "my-own-token-0123456789\n", { mode: 0o644 });
    await fs.chmod(adminTokenPath(tmp.dir), 0o644);
    expect(await loadOrCreateAdminToken(tmp.dir)).toBe("my-own-token-0123456789");
    expect((await fs.stat(adminTokenPath(tmp.dir))).mode & 0o777).toBe(0o600);
  });

  it("refuses a symlink, an empty file and one with spaces, saying which file", async () => {
    const elsewhere = path.join(tmp.dir, "elsewhere");
    await fs.writeFile(elsewhere, "abcdefghijklmnopqrstuvwxyz\n");
    await fs.symlink(elsewhere, adminTokenPath(tmp.dir));
    await expect(loadOrCreateAdminToken(tmp.dir)).rejects.toThrow(/symlink/);
    await fs.rm(adminTokenPath(tmp.dir));
    await fs.writeFile(adminTokenPath(tmp.dir), "\n");
    await expect(loadOrCreateAdminToken(tmp.dir)).rejects.toThrow(/does not hold a token/);
    await fs.writeFile(adminTokenPath(tmp.dir), "two words that are long\n");
    await expect(readAdminToken(tmp.dir)).rejects.toThrow(adminTokenPath(tmp.dir));
  });
});
