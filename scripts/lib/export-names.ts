/**
 * Exported names that more than one declaration uses: the check behind `npm run lint:names`
 * (one home for each concept: two different things exported under one name make a reader, and an
 * auto-import, pick the wrong one). Parse-only (the TypeScript parser, no type checking), so it is
 * fast enough for every lint.
 *
 * What counts as a declaration of an exported name: `export` on a function, class, interface, type,
 * enum or variable, and `export { local as name }` of something declared in the same file.
 * `export … from "…"` re-exports something declared elsewhere, so it is the same thing under the
 * same name and does not count. Names a framework prescribes per file (Next.js route handlers
 * and segment options, page metadata: {@link FRAMEWORK_NAMES}) and `default` are not checked.
 */
import ts from "typescript";

/** Next.js reads these exports by name from each route or page file, so they repeat by design. */
export const FRAMEWORK_NAMES: ReadonlySet<string> = new Set([
  "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS",
  "dynamic", "dynamicParams", "revalidate", "fetchCache", "runtime", "preferredRegion", "maxDuration",
  "metadata", "generateMetadata", "viewport", "generateViewport", "generateStaticParams",
]);

/** One source file: its repository-relative path and text. */
export interface SourceFile {
  path: string;
  text: string;
}

/** Where a name is declared: `path:line`. */
export type Place = string;

/** The names `file` declares and exports, with the line of each declaration (1-based). */
export function exportedDeclarations(file: SourceFile): { name: string; line: number }[] {
  const source = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.Latest, false, file.path.endsWith("x") ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const out: { name: string; line: number }[] = [];
  const lineOf = (node: ts.Node) => source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
  const imported = importedNames(source);
  for (const statement of source.statements) {
    if (ts.isExportDeclaration(statement)) {
      // `export { a as b }` names a local declaration; `export … from`, or `export { a }` of an imported `a`, passes one on.
      if (statement.moduleSpecifier || !statement.exportClause || !ts.isNamedExports(statement.exportClause)) continue;
      for (const spec of statement.exportClause.elements) {
        if (!imported.has((spec.propertyName ?? spec.name).text)) out.push({ name: spec.name.text, line: lineOf(spec) });
      }
      continue;
    }
    const modifiers = ts.canHaveModifiers(statement) ? ts.getModifiers(statement) : undefined;
    if (!modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) continue;
    if (modifiers.some((m) => m.kind === ts.SyntaxKind.DefaultKeyword)) continue;
    if (ts.isVariableStatement(statement)) {
      for (const d of statement.declarationList.declarations) if (ts.isIdentifier(d.name)) out.push({ name: d.name.text, line: lineOf(d) });
    } else if (
      (ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement) || ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement) || ts.isEnumDeclaration(statement)) &&
      statement.name
    ) {
      out.push({ name: statement.name.text, line: lineOf(statement) });
    }
  }
  return out;
}

/** The local names a file's imports bind. */
function importedNames(source: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  for (const statement of source.statements) {
    const clause = ts.isImportDeclaration(statement) ? statement.importClause : undefined;
    if (!clause) continue;
    if (clause.name) names.add(clause.name.text);
    const bindings = clause.namedBindings;
    if (bindings && ts.isNamespaceImport(bindings)) names.add(bindings.name.text);
    if (bindings && ts.isNamedImports(bindings)) for (const el of bindings.elements) names.add(el.name.text);
  }
  return names;
}

/**
 * Names exported by declarations in more than one place, each with its places (sorted by name).
 * Overloads and declaration merging within one file (a function's overload signatures, an
 * interface and a namespace of one name) count as one place.
 */
export function duplicateExportNames(files: readonly SourceFile[]): Map<string, Place[]> {
  const places = new Map<string, Map<string, Place>>();
  for (const file of files) {
    for (const { name, line } of exportedDeclarations(file)) {
      if (FRAMEWORK_NAMES.has(name)) continue;
      const byFile = places.get(name) ?? new Map<string, Place>();
      if (!byFile.has(file.path)) byFile.set(file.path, `${file.path}:${line}`);
      places.set(name, byFile);
    }
  }
  return new Map([...places].filter(([, byFile]) => byFile.size > 1).sort(([a], [b]) => a.localeCompare(b)).map(([name, byFile]) => [name, [...byFile.values()]]));
}
