import type { RepoView } from "@/lib/api";

/** The `<option>`s of a repository picker: one per repo, valued by its id, shown as "name (path)". */
export function RepoOptions({ repos }: { repos: readonly Pick<RepoView, "id" | "name" | "path">[] }) {
  return (
    <>
      {repos.map((r) => (
        <option key={r.id} value={r.id}>
          {r.name} ({r.path})
        </option>
      ))}
    </>
  );
}
