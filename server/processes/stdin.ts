/**
 * Writing to a process's stdin FIFO. The FIFO is opened O_WRONLY|O_NONBLOCK: that never blocks a
 * thread (ENXIO when nobody holds the read end, i.e. the wrapper is gone), and the fd is driven
 * by libuv as a pipe (`net.Socket`), so a full pipe waits on epoll instead of tying up one of
 * the four threadpool threads that all file I/O shares.
 */
import { constants, openSync } from "node:fs";
import net from "node:net";
import { AppError } from "@/lib/errors";

/** How long a write may wait for a process that does not read its stdin (ms). */
export const STDIN_TIMEOUT_MS = 5000;

/**
 * Write `data` (UTF-8) to the FIFO; resolves when it is in the pipe.
 * `waitForReaderMs`: how long a missing FIFO or reader is waited for (a process that has just
 * been started creates its FIFO itself), polling every 10 ms.
 * @throws AppError not_running (no reader: the process ended), conflict (no FIFO: started
 *   without stdin), unavailable (pipe full for `timeoutMs`, default {@link STDIN_TIMEOUT_MS})
 */
export async function writeToFifo(fifo: string, data: string, processId: string, opts: { timeoutMs?: number; waitForReaderMs?: number } = {}): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? STDIN_TIMEOUT_MS;
  const giveUpAt = Date.now() + (opts.waitForReaderMs ?? 0);
  let fd: number;
  for (;;) {
    try {
      fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code === "ENXIO" || code === "ENOENT") && Date.now() < giveUpAt) {
        // The wrapper is still creating / opening its FIFO.
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      if (code === "ENXIO") throw new AppError("not_running", `process ${processId} is not running`);
      if (code === "ENOENT") throw new AppError("conflict", `process ${processId} has no stdin (started without one)`);
      throw new AppError("unavailable", `cannot open stdin of process ${processId}: ${(err as Error).message}`);
    }
  }
  return new Promise<void>((resolve, reject) => {
    const sock = new net.Socket({ fd, readable: false, writable: true });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new AppError("unavailable", `process ${processId} does not read its stdin (pipe full for ${timeoutMs} ms)`));
    }, timeoutMs);
    sock.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      sock.destroy();
      reject(err.code === "EPIPE" ? new AppError("not_running", `process ${processId} is not running`) : new AppError("unavailable", `writing stdin of process ${processId} failed: ${err.message}`));
    });
    sock.end(data, () => {
      clearTimeout(timer);
      sock.destroy();
      resolve();
    });
  });
}
