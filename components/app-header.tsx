"use client";
/**
 * The sticky top bar: product name (links to the board), optional extra content, connection
 * status, the notifications switch, and links to the API reference and settings.
 *
 * The two links sit at the right edge, after the parts whose width changes once the page runs
 * (the status word, the switch's label): a flex row lays out from its flexible middle, so a
 * change of width there moves only what lies between it and the middle, never the links. A
 * click aimed at a link while the page hydrates lands on the link.
 *
 * With `wrapping`, the extra content may wrap onto more lines on a screen narrower than 1024 px
 * (a phone, a tablet, a laptop at 200 % zoom), and the bar grows to hold them: the board's counts,
 * four of which did not fit beside the links at 390 px, where the last was cut off mid-word.
 */
import Link from "next/link";
import type { ReactNode } from "react";
import { ConnectionStatus } from "./connection-status";
import { NotificationToggle } from "./lane-alerts";

export function AppHeader({ children, wrapping = false }: { children?: ReactNode; wrapping?: boolean }) {
  return (
    // Opaque, not translucent over a blur of the page: a backdrop blur is drawn again in every
    // frame the page moves under it, and with software compositing (no GPU) that doubled the
    // browser's CPU per frame of a board scroll (20 → 10 ms; the bulk bar's blur likewise).
    <header className="sticky top-0 z-20 border-b border-zinc-800/80 bg-zinc-950">
      <div className={`mx-auto flex max-w-[1800px] items-center gap-3 px-3 sm:gap-4 sm:px-4 ${wrapping ? "min-h-12 max-lg:py-1.5 lg:h-12" : "h-12"}`}>
        <Link href="/" className="flex items-center gap-2 text-sm font-semibold tracking-tight text-zinc-100">
          <span aria-hidden className="grid size-5 place-items-center rounded bg-sky-500/20 text-[11px] text-sky-300 ring-1 ring-sky-500/40">
            ≡
          </span>
          {/* On a phone the mark alone: the width goes to the board's counts. */}
          <span className="max-sm:sr-only">Laneboard</span>
        </Link>
        <div className="flex min-w-0 flex-1 items-center gap-3">{children}</div>
        <ConnectionStatus />
        <NotificationToggle />
        <Link href="/docs/api" data-testid="api-reference-link" className="hidden shrink-0 text-xs text-zinc-300 hover:text-sky-300 sm:inline">
          API
        </Link>
        <Link href="/settings" data-testid="settings-link" className="shrink-0 text-xs text-zinc-300 hover:text-sky-300">
          Settings
        </Link>
      </div>
    </header>
  );
}
