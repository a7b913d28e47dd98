/**
 * A process that uses the git runner (../spawner.test.ts): it prints its git helper's pid as one
 * JSON line on stdout, then
 * - `once <cwd>`: after one git call, has nothing left to do, so it exits by itself unless the
 *   helper keeps its event loop alive;
 * - `wait <cwd> <fifo> <marker>`: starts a git call that blocks reading `<fifo>` and then writes
 *   `<marker>`, and waits for it (the test SIGKILLs this process meanwhile).
 */
import { git } from "../runner";
import { gitHelperPid } from "../spawner";

const [mode = "", cwd = "", fifo = "", marker = ""] = process.argv.slice(2);

if (mode === "once") {
  await git(["rev-parse", "--git-dir"], { cwd });
  console.log(JSON.stringify({ helper: gitHelperPid() }));
} else if (mode === "wait") {
  // Paths made by the test in its temp dir; git runs the alias with sh.
  const call = git(["-c", `alias.wait=!read x < '${fifo}'; echo done > '${marker}'`, "wait"], { cwd });
  console.log(JSON.stringify({ helper: gitHelperPid() }));
  await call;
}
