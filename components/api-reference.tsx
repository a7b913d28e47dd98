/**
 * The API reference page: the OpenAPI 3.1 document of `/api/v1` (built from the routes' own zod
 * schemas) rendered as operations grouped by tag, each with its scope, parameters, request body
 * and responses, and the named schemas at the end. Server-rendered and self-contained: no script,
 * font or asset from anywhere else, so it works offline.
 */
import { AppHeader } from "./app-header";
import { Prose, SchemaTree, typeLabel, type JsonSchema } from "./api-schema";

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  schema?: JsonSchema;
}
interface Media {
  schema?: JsonSchema;
}
export interface ApiOperation {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  "x-scope"?: string;
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, Media> };
  responses?: Record<string, { description?: string; content?: Record<string, Media> }>;
}
/** The parts of an OpenAPI 3.1 document the page shows. */
export interface ApiDocument {
  info: { title: string; version: string; description?: string };
  paths?: Record<string, Record<string, ApiOperation>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

const METHOD_STYLE: Record<string, string> = {
  get: "bg-sky-500/15 text-sky-300 ring-sky-500/40",
  post: "bg-emerald-500/15 text-emerald-300 ring-emerald-500/40",
  put: "bg-amber-500/15 text-amber-300 ring-amber-500/40",
  patch: "bg-violet-500/15 text-violet-300 ring-violet-500/40",
  delete: "bg-rose-500/15 text-rose-300 ring-rose-500/40",
};

interface Entry {
  method: string;
  path: string;
  op: ApiOperation;
  id: string;
}

/** Operations grouped by their first tag, in document order. */
function groups(doc: ApiDocument): [string, Entry[]][] {
  const byTag = new Map<string, Entry[]>();
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(item)) {
      const tag = op.tags?.[0] ?? "api";
      const entry = { method, path, op, id: op.operationId ?? `${method}-${path}` };
      byTag.set(tag, [...(byTag.get(tag) ?? []), entry]);
    }
  }
  return [...byTag];
}

function MethodBadge({ method }: { method: string }) {
  return <span className={`inline-block w-14 shrink-0 rounded px-1.5 py-0.5 text-center font-mono text-[11px] font-semibold uppercase ring-1 ${METHOD_STYLE[method] ?? ""}`}>{method}</span>;
}

function Parameters({ params }: { params: Parameter[] }) {
  return (
    <div>
      <h4 className="mb-1 text-xs font-semibold text-zinc-400">Parameters</h4>
      <ul className="divide-y divide-zinc-800/70 rounded border border-zinc-800">
        {params.map((p) => (
          <li key={`${p.in}-${p.name}`} className="px-2 py-1.5">
            <div className="flex flex-wrap items-baseline gap-x-2 font-mono text-xs">
              <span className="text-zinc-100">{p.name}</span>
              <span className="text-zinc-500">{p.in}</span>
              {p.schema ? <span className="text-emerald-300/90">{typeLabel(p.schema)}</span> : null}
              {p.required ? <span className="text-[10px] uppercase text-amber-300/90">required</span> : null}
              {p.schema?.default !== undefined ? <span className="text-zinc-500">default {JSON.stringify(p.schema.default)}</span> : null}
            </div>
            <Prose text={p.description ?? p.schema?.description} className="text-xs text-zinc-400" />
          </li>
        ))}
      </ul>
    </div>
  );
}

function Body({ title, content, open }: { title: string; content: Record<string, Media>; open: boolean }) {
  return (
    <details open={open} className="group rounded border border-zinc-800">
      <summary className="cursor-pointer select-none px-2 py-1.5 text-xs font-semibold text-zinc-300">
        {title} <span className="font-normal text-zinc-500">{Object.keys(content).join(", ")}</span>
      </summary>
      <div className="flex flex-col gap-2 border-t border-zinc-800 px-2 py-2">
        {Object.entries(content).map(([type, media]) =>
          media.schema ? (
            <div key={type}>
              {Object.keys(content).length > 1 ? <div className="mb-1 text-[11px] text-zinc-500">{type}</div> : null}
              <SchemaTree schema={media.schema} />
            </div>
          ) : null,
        )}
      </div>
    </details>
  );
}

function Operation({ entry }: { entry: Entry }) {
  const { method, path, op, id } = entry;
  const responses = Object.entries(op.responses ?? {});
  const success = responses.filter(([status]) => status.startsWith("2"));
  const failures = responses.filter(([status]) => !status.startsWith("2"));
  return (
    <section id={id} data-testid="api-operation" className="scroll-mt-16 rounded-lg border border-zinc-800 bg-zinc-900/40 p-3 sm:p-4">
      <div className="flex flex-wrap items-center gap-2">
        <MethodBadge method={method} />
        <code className="min-w-0 break-all font-mono text-sm text-zinc-100">{path}</code>
        {op["x-scope"] ? <span className="rounded-full bg-zinc-800 px-2 py-0.5 text-[11px] text-zinc-300">scope {op["x-scope"]}</span> : null}
      </div>
      <p className="mt-2 text-sm text-zinc-200">{op.summary}</p>
      <Prose text={op.description} className="mt-1 text-xs" />
      <div className="mt-3 flex flex-col gap-3">
        {op.parameters?.length ? <Parameters params={op.parameters} /> : null}
        {op.requestBody?.content ? <Body title="Request body" content={op.requestBody.content} open /> : null}
        {success.map(([status, r]) =>
          r.content ? <Body key={status} title={`${status} ${r.description ?? ""}`} content={r.content} open={false} /> : <p key={status} className="text-xs text-zinc-400">{status} no body</p>,
        )}
        <div>
          <h4 className="mb-1 text-xs font-semibold text-zinc-400">Errors</h4>
          <ul className="flex flex-col gap-0.5 font-mono text-xs">
            {failures.map(([status, r]) => (
              <li key={status} className="text-zinc-400">
                <span className="text-rose-300">{status}</span> {r.description?.replace(/^Error: /, "")}
              </li>
            ))}
          </ul>
        </div>
      </div>
    </section>
  );
}

export function ApiReference({ doc }: { doc: ApiDocument }) {
  const tagged = groups(doc);
  const schemas = Object.entries(doc.components?.schemas ?? {});
  return (
    <>
      <AppHeader />
      <div className="mx-auto grid max-w-[1400px] gap-6 px-3 py-4 sm:px-4 lg:grid-cols-[240px_minmax(0,1fr)]">
        <nav aria-label="Operations" className="hidden lg:block">
          <div className="sticky top-16 max-h-[calc(100dvh-5rem)] overflow-y-auto pr-2 text-xs">
            {tagged.map(([tag, entries]) => (
              <div key={tag} className="mb-3">
                <a href={`#tag-${tag}`} className="font-semibold text-zinc-200 hover:text-sky-300">
                  {tag}
                </a>
                <ul className="mt-1 flex flex-col gap-0.5">
                  {entries.map((e) => (
                    <li key={e.id}>
                      <a href={`#${e.id}`} className="flex items-baseline gap-1.5 text-zinc-400 hover:text-sky-300">
                        <span className="w-11 shrink-0 font-mono text-[10px] uppercase">{e.method}</span>
                        <span className="truncate font-mono">{e.path.replace(/^\/api\/v1/, "")}</span>
                      </a>
                    </li>
                  ))}
                </ul>
              </div>
            ))}
            {schemas.length ? (
              <a href="#schemas" className="font-semibold text-zinc-200 hover:text-sky-300">
                schemas
              </a>
            ) : null}
          </div>
        </nav>
        <main className="flex min-w-0 flex-col gap-6">
          <header className="flex flex-col gap-2">
            <h1 className="text-base font-semibold text-zinc-100">
              {doc.info.title} <span className="font-normal text-zinc-500">{doc.info.version}</span>
            </h1>
            <Prose text={doc.info.description} className="text-xs" />
            <Prose
              className="text-xs"
              text="Every call sends `Authorization: Bearer <token>` (the admin token is in `<data-dir>/token`; scoped ones come from POST /api/v1/tokens). Scopes nest: read ⊂ control ⊂ admin. Every error is `{ error: { code, message, details? } }`."
            />
            <p className="text-xs">
              <a href="/api/v1/openapi.json" className="text-sky-300 hover:underline" data-testid="openapi-json-link">
                openapi.json
              </a>
              <span className="text-zinc-500"> · OpenAPI 3.1, for client generators and tools</span>
            </p>
            <p className="flex flex-wrap gap-x-3 gap-y-1 text-xs lg:hidden">
              {tagged.map(([tag]) => (
                <a key={tag} href={`#tag-${tag}`} className="text-sky-300 hover:underline">
                  {tag}
                </a>
              ))}
            </p>
          </header>
          {tagged.map(([tag, entries]) => (
            <section key={tag} id={`tag-${tag}`} aria-labelledby={`tag-${tag}-title`} className="flex scroll-mt-16 flex-col gap-3">
              <h2 id={`tag-${tag}-title`} className="text-sm font-semibold capitalize text-zinc-100">
                {tag}
              </h2>
              {entries.map((e) => (
                <Operation key={e.id} entry={e} />
              ))}
            </section>
          ))}
          {schemas.length ? (
            <section id="schemas" className="flex scroll-mt-16 flex-col gap-3">
              <h2 className="text-sm font-semibold text-zinc-100">Schemas</h2>
              {schemas.map(([name, schema]) => (
                <div key={name} id={`schema-${name}`} className="scroll-mt-16 rounded-lg border border-zinc-800 p-3">
                  <h3 className="mb-1 font-mono text-sm text-zinc-100">{name}</h3>
                  <SchemaTree schema={schema} />
                </div>
              ))}
            </section>
          ) : null}
        </main>
      </div>
    </>
  );
}
