#!/usr/bin/env node
// Records other platforms' optional native packages in package-lock.json.
//
// Why: the registry reachable from these machines lags behind for some platform-specific
// optional packages (e.g. @next/swc-darwin-arm64@16.4.6 is absent), so `npm install` leaves them
// out of the lockfile and `npm ci` then refuses the lockfile as out of sync ("Missing: … from
// lock file"). npm never fetches an optional package whose os/cpu do not match the machine, so an
// entry with its version, os and cpu (read from the registry's metadata of the package) is all
// `npm ci` needs here; on a matching platform npm fetches it by version as usual.
//
// Usage: node scripts/lockfile-platforms.mjs   (after any `npm install` that changes the lockfile)
import { execFileSync } from "node:child_process";
import fs from "node:fs";

const LOCK = "package-lock.json";
const lock = JSON.parse(fs.readFileSync(LOCK, "utf8"));
const packages = lock.packages;
let added = 0;
for (const [key, entry] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const prefix = key ? `${key}/node_modules/` : "node_modules/";
    if (packages[`${prefix}${name}`] || packages[`node_modules/${name}`]) continue;
    const meta = JSON.parse(execFileSync("npm", ["view", "--json", name, "os", "cpu", "libc"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }) || "{}");
    const record = { version, optional: true };
    for (const field of ["os", "cpu", "libc"]) if (meta[field]) record[field] = [meta[field]].flat();
    packages[`node_modules/${name}`] = record;
    added++;
    console.log(`recorded ${name}@${version} (${[record.os, record.cpu].flat().filter(Boolean).join("/")})`);
  }
}
const sorted = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))));
lock.packages = sorted;
fs.writeFileSync(LOCK, JSON.stringify(lock, null, 2) + "\n");
console.log(`${added} optional platform package(s) recorded`);
