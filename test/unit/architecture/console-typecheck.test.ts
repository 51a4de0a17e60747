/**
 * The web console (console/) is type-checked by its own tsconfig (DOM types and Preact's JSX),
 * so that the server code in the root project never sees DOM globals. `npm run typecheck` runs
 * both; this test runs the console's in the suite, with TypeScript's own API.
 */
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';
import { expect, it } from 'vitest';

const CONFIG = resolve(import.meta.dirname, '../../../console/tsconfig.json');

it('console/ type-checks with console/tsconfig.json', () => {
  const read = ts.readConfigFile(CONFIG, (p) => ts.sys.readFile(p));
  expect(read.error).toBeUndefined();
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, dirname(CONFIG));
  expect(parsed.fileNames.some((f) => f.endsWith(join('console', 'main.tsx')))).toBe(true);
  const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options });
  const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.formatDiagnostic(d, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => dirname(CONFIG), getNewLine: () => '\n' }));
  expect(diagnostics).toEqual([]);
}, 60_000);
