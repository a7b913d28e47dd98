"use client";
/**
 * Register a local git repository by absolute path (`POST /api/v1/repos`). The main branch is
 * detected by the server unless given. A 4xx shows the server's message.
 */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import type { RegisterRepoBody } from "@/lib/api";
import { api, errorMessage } from "./api-client";
import { laneKeys } from "./query-keys";

const INPUT =
  "h-8 rounded-md border border-zinc-800 bg-zinc-900 px-2.5 font-mono text-xs text-zinc-100 placeholder:text-zinc-600 focus:border-sky-600 focus:outline-none focus:ring-1 focus:ring-sky-600";

export function RegisterRepoForm() {
  const qc = useQueryClient();
  const [path, setPath] = useState("");
  const [mainBranch, setMainBranch] = useState("");
  const register = useMutation({
    mutationFn: (body: RegisterRepoBody) => api.registerRepo(body),
    onSuccess: () => {
      setPath("");
      setMainBranch("");
      void qc.invalidateQueries({ queryKey: laneKeys.board });
    },
  });

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const body: RegisterRepoBody = { path: path.trim() };
    if (mainBranch.trim()) body.mainBranch = mainBranch.trim();
    register.mutate(body);
  };

  return (
    <form data-testid="register-repo-form" onSubmit={onSubmit} aria-label="Register a repository" className="flex flex-col gap-1.5">
      <div className="flex flex-wrap items-center gap-2">
        <label htmlFor="repo-path" className="sr-only">
          Repository path
        </label>
        <input
          id="repo-path"
          data-testid="repo-path-input"
          name="path"
          required
          value={path}
          onChange={(e) => setPath(e.target.value)}
          placeholder="/absolute/path/to/git/repo"
          autoComplete="off"
          spellCheck={false}
          className={`${INPUT} w-96 max-w-full`}
        />
        <label htmlFor="repo-main-branch" className="sr-only">
          Main branch (optional)
        </label>
        <input
          id="repo-main-branch"
          data-testid="repo-main-branch-input"
          name="mainBranch"
          value={mainBranch}
          onChange={(e) => setMainBranch(e.target.value)}
          placeholder="main branch (auto)"
          autoComplete="off"
          spellCheck={false}
          className={`${INPUT} w-40`}
        />
        <button
          type="submit"
          disabled={register.isPending || path.trim() === ""}
          className="h-8 rounded-md bg-sky-600 px-3 text-xs font-medium text-white hover:bg-sky-500 disabled:cursor-not-allowed disabled:opacity-50"
        >
          {register.isPending ? "Registering…" : "Register repo"}
        </button>
      </div>
      {register.isError && (
        <p role="alert" data-testid="register-repo-error" className="w-0 min-w-full text-xs text-red-300">
          {errorMessage(register.error)}
        </p>
      )}
      {register.isSuccess && (
        <p role="status" className="w-0 min-w-full text-xs text-emerald-300">
          Registered {register.data.name} ({register.data.mainBranch}).
        </p>
      )}
    </form>
  );
}
