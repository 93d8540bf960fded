// Dependencies point down: the folders of src/ (and its top-level files, each a node of its own) form
// an acyclic graph of runtime imports, and doctor checks do not import each other. Imports are read
// with the TypeScript parser: `import type`, `export type` and imports whose every name is a type are
// erased by the compiler and do not count; dynamic `import()` does.
import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { PROJECT } from './helpers/gentoo.js';

const SRC = path.join(PROJECT, 'src');

/** A runtime import of one module by another, as written (for the message). */
interface Edge {
  from: string;
  to: string;
  /** "src/x/a.ts -> src/y/b.ts" */
  example: string;
}

/** Runtime import specifiers of one TypeScript file; with `staticOnly`, not those of `import()`. */
function runtimeImports(text: string, file = 'x.ts', staticOnly = false): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (!clause.name &&
            clause.namedBindings !== undefined &&
            ts.isNamedImports(clause.namedBindings) &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      if (!typeOnly) out.push(node.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const typeOnly =
        node.isTypeOnly ||
        (node.exportClause !== undefined &&
          ts.isNamedExports(node.exportClause) &&
          node.exportClause.elements.length > 0 &&
          node.exportClause.elements.every((e) => e.isTypeOnly));
      if (!typeOnly) out.push(node.moduleSpecifier.text);
    } else if (
      !staticOnly &&
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      out.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** src/doctor/checks/flags.ts -> "doctor/checks"; src/cli.ts -> "cli.ts". */
const nodeOf = (rel: string): string => (path.dirname(rel) === '.' ? rel : path.dirname(rel));

/** Every runtime import between two modules of src/ (relative paths, .ts). */
function moduleImports(): { from: string; to: string }[] {
  const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  const out: { from: string; to: string }[] = [];
  for (const rel of files) {
    for (const spec of runtimeImports(readFileSync(path.join(SRC, rel), 'utf8'), rel)) {
      if (!spec.startsWith('.')) continue;
      out.push({ from: rel, to: path.normalize(path.join(path.dirname(rel), spec)).replace(/\.js$/, '.ts') });
    }
  }
  return out;
}

function folderEdges(imports: { from: string; to: string }[]): Edge[] {
  const edges = new Map<string, Edge>();
  for (const i of imports) {
    const from = nodeOf(i.from);
    const to = nodeOf(i.to);
    if (from === to || edges.has(`${from}\0${to}`)) continue;
    edges.set(`${from}\0${to}`, { from, to, example: `src/${i.from} -> src/${i.to}` });
  }
  return [...edges.values()];
}

/** The strongly connected sets of nodes with more than one node (Tarjan), each with one cycle through it. */
function cycles(edges: readonly Edge[]): { nodes: string[]; cycle: Edge[] }[] {
  const next = new Map<string, Edge[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const sccs: string[][] = [];
  const strong = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    for (const { to } of next.get(v) ?? []) {
      if (!index.has(to)) {
        strong(to);
        low.set(v, Math.min(low.get(v)!, low.get(to)!));
      } else if (stack.includes(to)) low.set(v, Math.min(low.get(v)!, index.get(to)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) sccs.push(scc.sort());
    }
  };
  for (const v of new Set(edges.flatMap((e) => [e.from, e.to]))) if (!index.has(v)) strong(v);
  return sccs.map((nodes) => ({ nodes, cycle: cycleIn(nodes, next) }));
}

/** One cycle inside a strongly connected set: a breadth-first path from its first node back to it. */
function cycleIn(nodes: string[], next: Map<string, Edge[]>): Edge[] {
  const start = nodes[0]!;
  const via = new Map<string, Edge>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift()!;
    for (const e of next.get(v) ?? []) {
      if (!nodes.includes(e.to)) continue;
      if (e.to === start) {
        const path = [e];
        for (let w = v; w !== start; w = via.get(w)!.from) path.unshift(via.get(w)!);
        return path;
      }
      if (!via.has(e.to)) {
        via.set(e.to, e);
        queue.push(e.to);
      }
    }
  }
  return [];
}

const show = (c: { nodes: string[]; cycle: Edge[] }): string =>
  `${c.cycle.map((e) => e.from).join(' -> ')} -> ${c.cycle[0]?.from}\n` +
  c.cycle.map((e) => `    ${e.example}`).join('\n');

describe('the folder graph of src/', () => {
  it('has no cycle of runtime imports', () => {
    const found = cycles(folderEdges(moduleImports()));
    expect(found.map(show).join('\n')).toBe('');
  });

  it('doctor checks import no other check (shared code lives in src/doctor)', () => {
    const between = moduleImports().filter(
      (i) =>
        nodeOf(i.from) === 'doctor/checks' &&
        nodeOf(i.to) === 'doctor/checks' &&
        path.basename(i.from) !== 'registry.ts',
    );
    expect(between.map((i) => `src/${i.from} -> src/${i.to}`)).toEqual([]);
  });

  it('the command table imports nothing, and cli.ts loads no command before it runs (--help stays cheap)', () => {
    const imports = (rel: string): string[] => runtimeImports(readFileSync(path.join(SRC, rel), 'utf8'), rel, true);
    expect(imports('commands/table.ts')).toEqual([]);
    expect(imports('commands/help.ts')).toEqual(['./table.js']);
    expect(imports('cli.ts').sort()).toEqual([
      './commands/help.js',
      './commands/table.js',
      './errors.js',
      './version.js',
      'node:util',
    ]);
    // --version is answered by bin.ts with version.ts, which imports nothing; bin.ts loads either lazily
    expect(imports('version.ts')).toEqual([]);
    expect(imports('bin.ts')).toEqual([]);
    const all = (rel: string): string[] => runtimeImports(readFileSync(path.join(SRC, rel), 'utf8'), rel);
    expect(all('bin.ts').sort()).toEqual(['./cli.js', './version.js']);
  });

  it('finds a cycle through three folders and prints it with the imports that make it', () => {
    const e = (from: string, to: string): Edge => ({ from, to, example: `src/${from}/m.ts -> src/${to}/m.ts` });
    const found = cycles([e('a', 'b'), e('b', 'c'), e('c', 'a'), e('c', 'd'), e('x', 'a')]);
    expect(found.map((c) => c.nodes)).toEqual([['a', 'b', 'c']]);
    expect(show(found[0]!)).toBe(
      'a -> b -> c -> a\n    src/a/m.ts -> src/b/m.ts\n    src/b/m.ts -> src/c/m.ts\n    src/c/m.ts -> src/a/m.ts',
    );
    expect(cycles([e('a', 'b'), e('b', 'c')])).toEqual([]);
  });

  it('counts value imports and dynamic imports, not type-only ones', () => {
    const text = [
      "import type { A } from './t1.js';",
      "import { type B, type C } from './t2.js';",
      "export type { D } from './t3.js';",
      "import { type E, f } from './v1.js';",
      "export { g } from './v2.js';",
      "import './v3.js';",
      "const m = await import('./v4.js');",
      "export * from './v5.js';",
    ].join('\n');
    expect(runtimeImports(text)).toEqual(['./v1.js', './v2.js', './v3.js', './v4.js', './v5.js']);
    expect(runtimeImports(text, 'x.ts', true)).toEqual(['./v1.js', './v2.js', './v3.js', './v5.js']);
  });
});
