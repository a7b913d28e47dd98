/**
 * Test fixture: a supervisor in a process of its own, so a test can SIGKILL it like a crashed
 * server. Usage: `tsx supervisor-child.ts <dataDir> <argv-json>`. Recovers, starts the command,
 * then prints one JSON object per line on stdout: `{"started":id}` and, for every published
 * batch, `{"lines":[text…]}` (stdout to a pipe is synchronous on Linux, so what is printed was
 * published before any kill).
 */
import { EventBus } from "../../events/event-bus";
import { EventLog } from "../../events/event-log";
import { openDatabase } from "../../store/db";
import { ProcessSupervisor } from "../supervisor";
import { outputLines } from "@/lib/log-chunk";
import { testDatabaseUrl } from "../../testing/test-database";

const [dataDir, argvJson] = process.argv.slice(2);
const db = await openDatabase(dataDir!, { databaseUrl: await testDatabaseUrl(dataDir!) });
const bus = new EventBus();
const events = new EventLog(db, bus);
const sup = new ProcessSupervisor({ db, events, bus, dataDir: dataDir!, killGraceMs: 2000, logMaxBytesPerProcess: 1 << 26, logMaxBytesTotal: 1 << 30 });
bus.on("process.output", (b) => process.stdout.write(JSON.stringify({ lines: outputLines(b).map((l) => l.text) }) + "\n"));
await sup.recover();
const view = await sup.start({ laneId: null, role: "worker", argv: JSON.parse(argvJson!) as string[], cwd: "/" });
process.stdout.write(JSON.stringify({ started: view.id }) + "\n");
setInterval(() => undefined, 1 << 30); // stay up until killed
