"use client";
/**
 * One file of a lane's diff, rendered with react-diff-view (unified or split, word-level edit
 * marks) and syntax-highlighted with refractor (Prism grammars). Its patch is fetched only when
 * the file comes near the viewport or is opened, so a diff of thousands of files stays
 * responsive. Clicking a line's number opens a comment box under it; comments are collected by
 * the parent and sent to the agent as one follow-up prompt.
 */
import { useQuery } from "@tanstack/react-query";
import { useEffect, useMemo, useRef, useState } from "react";
import { Diff, getChangeKey, Hunk, markEdits, parseDiff, tokenize, type ChangeData, type HunkData, type ViewType } from "react-diff-view";
import { refractor } from "refractor";
import bash from "refractor/bash";
import jsx from "refractor/jsx";
import tsx from "refractor/tsx";
import type { DiffFile } from "@/lib/review-api";
import { api, errorMessage } from "./api-client";
import { laneKeys } from "./query-keys";
import "react-diff-view/style/index.css";

refractor.register(jsx);
refractor.register(tsx);
refractor.register(bash);

/** refractor ≥ 4 returns a root node; react-diff-view wants its children. */
const highlighter = { highlight: (text: string, lang: string) => refractor.highlight(text, lang).children } as never;

const LANGUAGE: Record<string, string> = {
  js: "javascript", mjs: "javascript", cjs: "javascript", jsx: "jsx", ts: "typescript", mts: "typescript", cts: "typescript", tsx: "tsx",
  json: "json", css: "css", scss: "scss", md: "markdown", html: "markup", xml: "markup", svg: "markup", py: "python", go: "go",
  rs: "rust", sh: "bash", bash: "bash", yml: "yaml", yaml: "yaml", java: "java", c: "c", h: "c", cpp: "cpp", rb: "ruby", sql: "sql",
  kt: "kotlin", swift: "swift", php: "php", toml: "ini", ini: "ini",
};

/** Prism language for a path, or null (plain text). */
export function languageOf(path: string): string | null {
  const ext = path.slice(path.lastIndexOf(".") + 1).toLowerCase();
  const lang = LANGUAGE[ext];
  return lang && refractor.registered(lang) ? lang : null;
}

/** Changed lines above which a file starts collapsed (the person opens it). */
export const LARGE_FILE_LINES = 1500;

/** A line comment: where, and what. `line` is the new side's number (the old side's for a deleted line). */
export interface LineComment {
  path: string;
  key: string;
  line: number;
  side: "old" | "new";
  code: string;
  text: string;
}

function commentTarget(path: string, change: ChangeData): Omit<LineComment, "text"> {
  const key = getChangeKey(change);
  if (change.type === "delete") return { path, key, line: change.lineNumber, side: "old", code: change.content };
  if (change.type === "insert") return { path, key, line: change.lineNumber, side: "new", code: change.content };
  return { path, key, line: change.newLineNumber, side: "new", code: change.content };
}

function CommentEditor({ initial, onSave, onCancel }: { initial: string; onSave: (text: string) => void; onCancel: () => void }) {
  const [text, setText] = useState(initial);
  return (
    <div className="flex flex-col gap-2 border-y border-sky-800/60 bg-zinc-900 p-2 font-sans" data-testid="comment-editor">
      <textarea
        autoFocus
        aria-label="Comment on this line"
        value={text}
        onChange={(e) => setText(e.target.value)}
        rows={2}
        className="w-full rounded border border-zinc-700 bg-zinc-950 px-2 py-1 text-xs text-zinc-100 focus-visible:outline-2 focus-visible:outline-sky-500"
      />
      <div className="flex gap-2">
        <button type="button" data-testid="comment-save" disabled={!text.trim()} onClick={() => onSave(text.trim())} className="rounded bg-sky-600 px-2 py-0.5 text-xs text-white hover:bg-sky-500 disabled:opacity-40">
          Add comment
        </button>
        <button type="button" onClick={onCancel} className="rounded px-2 py-0.5 text-xs text-zinc-300 hover:bg-zinc-800">
          Cancel
        </button>
      </div>
    </div>
  );
}

function DiffBody({ patch, path, viewType, comments, onComment }: { patch: string; path: string; viewType: ViewType; comments: LineComment[]; onComment: (c: LineComment | { remove: string; path: string }) => void }) {
  const [editing, setEditing] = useState<Omit<LineComment, "text"> | null>(null);
  const [file] = useMemo(() => parseDiff(patch, { nearbySequences: "zip" }), [patch]);
  const hunks: HunkData[] = useMemo(() => file?.hunks ?? [], [file]);
  const language = languageOf(path);
  const tokens = useMemo(() => {
    try {
      return tokenize(hunks, language ? { highlight: true, refractor: highlighter, language, enhancers: [markEdits(hunks, { type: "block" })] } : { enhancers: [markEdits(hunks, { type: "block" })] });
    } catch {
      return null; // a grammar that chokes on a fragment: show the diff without colours
    }
  }, [hunks, language]);
  if (!file) return <p className="p-3 text-xs text-zinc-400">No textual change (mode or binary).</p>;
  const widgets: Record<string, React.ReactNode> = {};
  for (const c of comments) {
    widgets[c.key] = (
      <div className="flex items-start gap-2 border-y border-zinc-800 bg-zinc-900 px-3 py-1.5 font-sans text-xs text-zinc-200" data-testid="line-comment">
        <span className="flex-1 whitespace-pre-wrap">💬 {c.text}</span>
        <button type="button" onClick={() => onComment({ remove: c.key, path })} className="text-zinc-400 hover:text-red-300" aria-label="Remove comment">
          ✕
        </button>
      </div>
    );
  }
  if (editing) {
    const existing = comments.find((c) => c.key === editing.key)?.text ?? "";
    widgets[editing.key] = (
      <CommentEditor
        initial={existing}
        onCancel={() => setEditing(null)}
        onSave={(text) => {
          onComment({ ...editing, text });
          setEditing(null);
        }}
      />
    );
  }
  return (
    <Diff
      viewType={viewType}
      diffType={file.type}
      hunks={hunks}
      tokens={tokens}
      widgets={widgets}
      className="lb-diff"
      gutterEvents={{ onClick: ({ change }: { change: ChangeData | null }) => change && setEditing(commentTarget(path, change)) }}
    >
      {(hs) => hs.map((h) => <Hunk key={h.content} hunk={h} />)}
    </Diff>
  );
}

const STATUS_STYLE: Record<DiffFile["status"], string> = {
  added: "text-emerald-300",
  deleted: "text-red-300",
  modified: "text-amber-200",
  renamed: "text-sky-300",
  copied: "text-sky-300",
  type_changed: "text-zinc-300",
};

export function DiffFileView(props: {
  laneId: string;
  file: DiffFile;
  at: { base: string; head: string };
  viewType: ViewType;
  comments: LineComment[];
  onComment: (c: LineComment | { remove: string; path: string }) => void;
}) {
  const { laneId, file, at } = props;
  const changed = (file.additions ?? 0) + (file.deletions ?? 0);
  const [open, setOpen] = useState(!file.binary && changed <= LARGE_FILE_LINES);
  const [near, setNear] = useState(false);
  const ref = useRef<HTMLElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el || near) return;
    const io = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && setNear(true), { rootMargin: "600px 0px" });
    io.observe(el);
    return () => io.disconnect();
  }, [near]);
  const patch = useQuery({
    queryKey: laneKeys.diffFile(laneId, file.path, at.base, at.head),
    queryFn: () => api.diffFile(laneId, file.path, at),
    enabled: open && near && !file.binary,
    staleTime: Infinity,
  });
  return (
    <article ref={ref} data-testid="diff-file" data-path={file.path} className="overflow-hidden rounded-lg border border-zinc-800 bg-zinc-950">
      <header className="flex min-w-0 items-center gap-2 border-b border-zinc-800 bg-zinc-900/80 px-3 py-1.5">
        <button
          type="button"
          aria-expanded={open}
          onClick={() => setOpen((o) => !o)}
          className="min-w-0 flex-1 truncate text-left font-mono text-xs text-zinc-100 hover:text-sky-300 focus-visible:outline-2 focus-visible:outline-sky-500"
          title={file.oldPath ? `${file.oldPath} → ${file.path}` : file.path}
        >
          <span aria-hidden>{open ? "▾ " : "▸ "}</span>
          {file.oldPath ? `${file.oldPath} → ` : ""}
          {file.path}
        </button>
        <span className={`shrink-0 text-[11px] ${STATUS_STYLE[file.status]}`}>{file.status.replace("_", " ")}</span>
        {file.binary ? (
          <span className="shrink-0 text-[11px] text-zinc-400">binary</span>
        ) : (
          <span className="shrink-0 font-mono text-[11px]">
            <span className="text-emerald-300">+{file.additions}</span> <span className="text-red-300">−{file.deletions}</span>
          </span>
        )}
      </header>
      {open && !file.binary && (
        <div className="overflow-x-auto text-xs">
          {patch.isPending && <p className="p-3 text-xs text-zinc-400">{near ? "Loading the diff…" : "…"}</p>}
          {patch.isError && (
            <p role="alert" className="p-3 text-xs text-red-300">
              {errorMessage(patch.error)}
            </p>
          )}
          {patch.data && <DiffBody patch={patch.data.patch} path={file.path} viewType={props.viewType} comments={props.comments} onComment={props.onComment} />}
          {patch.data?.truncated && <p className="p-2 text-xs text-amber-300">This file&apos;s diff is very large: only its beginning is shown.</p>}
        </div>
      )}
      {!open && !file.binary && changed > LARGE_FILE_LINES && <p className="px-3 py-2 text-xs text-zinc-400">Large file ({changed.toLocaleString("en")} changed lines): open it to load the diff.</p>}
    </article>
  );
}
