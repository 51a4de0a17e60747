/**
 * The layers point one way (docs/ARCHITECTURE.md, "Layers"). Every import of every module in
 * lib/ and functions/ is read with TypeScript's own parser (so `import type` is told apart from
 * a value import) and checked against the rules below; a violation names the file and import.
 * Dynamic `import('...')` calls with a string literal count too, as value imports (they load
 * the module at run time); `typeof import('...')` in a type is not a call and is not counted.
 * The web console (console/, .ts and .tsx) is read the same way.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');

interface Import {
  readonly from: string; // repo-relative file
  readonly spec: string; // as written
  readonly target: string | undefined; // repo-relative resolved path for relative imports
  readonly typeOnly: boolean;
  readonly dynamic: boolean;
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return /\.tsx?$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

function importsOf(path: string): Import[] {
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, false);
  const from = relative(ROOT, path).split(sep).join('/');
  const out: Import[] = [];
  const add = (spec: string, typeOnly: boolean, dynamic = false) => {
    const target = spec.startsWith('.') ? relative(ROOT, resolve(dirname(path), spec)).split(sep).join('/') : undefined;
    out.push({ from, spec, target, typeOnly, dynamic });
  };
  const visit = (node: ts.Node): void => {
    if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] !== undefined &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      add(node.arguments[0].text, false, true);
    }
    ts.forEachChild(node, visit);
  };
  for (const node of source.statements) {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            clause.namedBindings !== undefined &&
            ts.isNamedImports(clause.namedBindings) &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      add(node.moduleSpecifier.text, typeOnly);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier.text, node.isTypeOnly);
    } else {
      visit(node);
    }
  }
  return out;
}

const all = [...files(join(ROOT, 'lib')), ...files(join(ROOT, 'functions')), ...files(join(ROOT, 'console'))].flatMap(importsOf);
const inFolder = (path: string | undefined, folder: string) => path !== undefined && (path === folder || path.startsWith(`${folder}/`));
const isDynamic = (i: Import) => i.dynamic;
const show = (i: Import) => `${i.from} imports ${i.typeOnly ? 'type ' : ''}'${i.spec}'`;

describe('import boundaries', () => {
  it('reads the tree (the check is not vacuous)', () => {
    expect(all.length).toBeGreaterThan(200);
    expect(all.some((i) => i.spec.startsWith('@aws-sdk/'))).toBe(true);
    // lib/local loads testcontainers on demand: dynamic imports are read as value imports.
    expect(all.some((i) => i.spec === 'testcontainers' && !i.typeOnly)).toBe(true);
  });

  it('only lib/storage and lib/local import the AWS SDK (the client only its credential chain, on demand)', () => {
    const bad = all.filter(
      (i) =>
        i.spec.startsWith('@aws-sdk/') &&
        !inFolder(i.from, 'lib/storage') &&
        !inFolder(i.from, 'lib/local') &&
        !(inFolder(i.from, 'lib/client') && i.spec === '@aws-sdk/credential-provider-node' && isDynamic(i)),
    );
    expect(bad.map(show)).toEqual([]);
  });

  it('lib/client speaks only the public API: no server layer, no Node built-in (it runs in browsers)', () => {
    const allowedPackages = new Set(['@smithy/signature-v4', '@aws-crypto/sha256-js', '@aws-sdk/credential-provider-node']);
    const bad = all.filter(
      (i) =>
        inFolder(i.from, 'lib/client') &&
        (i.target !== undefined
          ? !inFolder(i.target, 'lib/client') && !inFolder(i.target, 'lib/partition') && !(inFolder(i.target, 'lib/wire') && i.typeOnly)
          : !allowedPackages.has(i.spec)),
    );
    expect(all.some((i) => inFolder(i.from, 'lib/client'))).toBe(true);
    expect(bad.map(show)).toEqual([]);
  });

  it('the web console (console/) speaks only the public API: lib/client and lib/wire, Preact, uPlot, its own CSS', () => {
    const allowedPackages = new Set(['preact', 'preact/hooks', 'uplot', 'uplot/dist/uPlot.min.css']);
    const inConsole = all.filter((i) => inFolder(i.from, 'console'));
    const bad = inConsole.filter((i) =>
      i.target !== undefined
        ? !['console', 'lib/client', 'lib/wire'].some((f) => inFolder(i.target, f))
        : !allowedPackages.has(i.spec),
    );
    expect(inConsole.some((i) => inFolder(i.target, 'lib/client'))).toBe(true);
    expect(inConsole.some((i) => i.spec === 'preact/hooks')).toBe(true);
    expect(bad.map(show)).toEqual([]);
  });

  it('nothing in lib/ or functions/ imports the console (it is a browser bundle, served as files)', () => {
    const bad = all.filter((i) => !inFolder(i.from, 'console') && inFolder(i.target, 'console'));
    expect(bad.map(show)).toEqual([]);
  });

  it('the client commands of the CLI go through lib/client only (dev and maintenance run the server side)', () => {
    const serverSide = ['lib/log', 'lib/groups', 'lib/maintenance', 'lib/storage', 'lib/api'];
    const bad = all.filter(
      (i) =>
        inFolder(i.from, 'lib/cli') &&
        !['lib/cli/main.ts', 'lib/cli/commands/dev.ts', 'lib/cli/commands/maintenance.ts'].includes(i.from) &&
        serverSide.some((f) => inFolder(i.target, f)),
    );
    expect(bad.map(show)).toEqual([]);
  });

  it('the rules (lib/log, lib/groups, lib/maintenance, lib/auth) and lib/api use storage through its interfaces only (type imports)', () => {
    const bad = all.filter(
      (i) =>
        ['lib/log', 'lib/groups', 'lib/maintenance', 'lib/auth', 'lib/api'].some((f) => inFolder(i.from, f)) &&
        inFolder(i.target, 'lib/storage') &&
        !i.typeOnly,
    );
    expect(bad.map(show)).toEqual([]);
  });

  it('lib/storage imports none of the rules above it', () => {
    const bad = all.filter((i) => inFolder(i.from, 'lib/storage') && ['lib/log', 'lib/groups', 'lib/auth', 'lib/api', 'lib/maintenance', 'lib/client', 'lib/cli'].some((f) => inFolder(i.target, f)));
    expect(bad.map(show)).toEqual([]);
  });

  it('lib/model imports nothing; lib/wire imports no other lib folder', () => {
    const model = all.filter((i) => inFolder(i.from, 'lib/model') && !inFolder(i.target, 'lib/model'));
    const wire = all.filter((i) => inFolder(i.from, 'lib/wire') && i.target !== undefined && !inFolder(i.target, 'lib/wire'));
    expect([...model, ...wire].map(show)).toEqual([]);
  });

  it('only lib/observability/powertools.ts imports Powertools (everything else records through lib/metrics.ts and the Logger)', () => {
    const adapter = 'lib/observability/powertools.ts';
    const bad = all.filter((i) => i.spec.startsWith('@aws-lambda-powertools/') && i.from !== adapter);
    expect(all.some((i) => i.from === adapter && i.spec === '@aws-lambda-powertools/metrics')).toBe(true);
    expect(bad.map(show)).toEqual([]);
  });

  it('the rules and lib/api never import the Powertools adapter (it is wired in functions/ only)', () => {
    const bad = all.filter(
      (i) =>
        ['lib/log', 'lib/groups', 'lib/maintenance', 'lib/api', 'lib/storage', 'lib/model', 'lib/wire', 'lib/codec', 'lib/client'].some((f) => inFolder(i.from, f)) &&
        inFolder(i.target, 'lib/observability'),
    );
    expect(bad.map(show)).toEqual([]);
  });

  it('lib/auth (token ACLs) does no I/O: no AWS SDK, no storage, no HTTP framework', () => {
    const bad = all.filter(
      (i) => inFolder(i.from, 'lib/auth') && (i.spec.startsWith('@aws-sdk/') || i.spec === 'hono' || (inFolder(i.target, 'lib/storage') && !i.typeOnly)),
    );
    expect(all.some((i) => inFolder(i.from, 'lib/auth'))).toBe(true);
    expect(bad.map(show)).toEqual([]);
  });

  it('nothing below lib/api imports it', () => {
    const bad = all.filter((i) => ['lib/log', 'lib/groups', 'lib/auth', 'lib/storage', 'lib/model', 'lib/wire'].some((f) => inFolder(i.from, f)) && inFolder(i.target, 'lib/api'));
    expect(bad.map(show)).toEqual([]);
  });
});
