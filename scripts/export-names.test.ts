/**
 * The exported-names check (scripts/lib/export-names.ts): two things exported under one name are
 * caught whatever kind of declaration each is; the same thing passed on (re-exports), overloads
 * and the names Next.js reads from every route file are not.
 */
import { describe, expect, it } from "vitest";
import { duplicateExportNames } from "./lib/export-names";

const check = (files: Record<string, string>) => Object.fromEntries(duplicateExportNames(Object.entries(files).map(([path, text]) => ({ path, text }))));

describe("duplicateExportNames", () => {
  it("names two different things exported under one name, with where each is declared", () => {
    expect(check({ "lib/a.ts": "export type LaneStatus = string;\n", "components/b.tsx": "import x from 'y';\n\nexport function LaneStatus() { return null; }\n" })).toEqual({
      LaneStatus: ["lib/a.ts:1", "components/b.tsx:3"],
    });
    expect(check({ "a.ts": "export const A = 1, B = 2;", "b.ts": "class Local {}\nexport { Local as B };", "c.ts": "export interface C {}", "d.ts": "export enum C { x }" })).toEqual({
      B: ["a.ts:1", "b.ts:2"],
      C: ["c.ts:1", "d.ts:1"],
    });
  });

  it("lets the same thing be passed on under its name, overloads and merging in one file, defaults and Next.js's per-route names", () => {
    expect(
      check({
        "lib/api-error.ts": "export class ApiError extends Error {}",
        "components/api-client.ts": "import { ApiError } from '@/lib/api-error';\nexport { ApiError };",
        "server/index.ts": "export { ApiError } from './x';\nexport * from './y';",
        "lib/f.ts": "export function f(a: string): string;\nexport function f(a: number): number;\nexport function f(a: unknown) { return a; }\nexport interface M {}\nexport namespace M {}",
        "app/one/route.ts": "export const dynamic = 'force-dynamic';\nexport const GET = 1;\nexport default function Page() {}",
        "app/two/route.ts": "export const dynamic = 'force-dynamic';\nexport const GET = 2;\nexport default function Page() {}",
      }),
    ).toEqual({});
  });
});
