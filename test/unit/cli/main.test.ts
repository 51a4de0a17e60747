import { execFileSync } from 'node:child_process';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../../lib/cli/main.ts';
import { devOptions, tryLines } from '../../../lib/cli/commands/dev.ts';
import { BACKENDS } from '../../../lib/deps.ts';
import { SLUICE_VERSION } from '../../../lib/version.ts';

/** Parses `args` without exiting the process; returns what commander printed. */
async function run(program: Command, args: string[]): Promise<{ out: string; code: string | undefined }> {
  let out = '';
  program.exitOverride().configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (out += s) });
  try {
    await program.parseAsync(args, { from: 'user' });
    return { out, code: undefined };
  } catch (err) {
    return { out, code: (err as { code?: string }).code };
  }
}

describe('sluice CLI root', () => {
  it('prints the package version for --version and -V', async () => {
    for (const flag of ['--version', '-V']) {
      const { out, code } = await run(await buildProgram(), [flag]);
      expect(code).toBe('commander.version');
      expect(out.trim()).toBe(SLUICE_VERSION);
    }
  });

  it('lists its subcommands', async () => {
    expect((await buildProgram()).commands.map((c) => c.name())).toEqual(['dev', 'maintenance', 'topics', 'produce', 'consume', 'groups', 'cluster', 'tokens']);
  });

  it('offers the backends of the one list, local by default', async () => {
    const dev = (await buildProgram()).commands.find((c) => c.name() === 'dev');
    const backend = dev?.options.find((o) => o.long === '--backend');
    expect(backend?.argChoices).toEqual([...BACKENDS]);
    expect(backend?.defaultValue).toBe('local');
  });
});

describe('devOptions', () => {
  it('refuses a backend outside the list, naming the list', () => {
    expect(() => devOptions({ backend: 'gcp' }, {})).toThrow(`--backend must be one of ${BACKENDS.join(', ')} (got gcp)`);
  });

  it('takes PORT and SLUICE_DATA_DIR from the environment when no flag is given', () => {
    const opts = devOptions({}, { PORT: '9090', SLUICE_DATA_DIR: '/tmp/sluice-data' });
    expect(opts).toMatchObject({ backend: 'local', port: 9090, host: '127.0.0.1', dataDir: '/tmp/sluice-data' });
    expect(devOptions({ port: '0' }, { PORT: '9090' }).port).toBe(0);
    expect(() => devOptions({ port: 'http' }, {})).toThrow('invalid port: http');
  });
});

describe("the dev server's banner", () => {
  it('with SLUICE_AUTH_TOKEN, suggests a header the shell expands (double quotes, not single)', () => {
    expect(tryLines('localhost:8080', false).join('\n')).not.toContain('authorization');
    const hint = tryLines('localhost:8080', true).at(-1)!;
    expect(hint).toBe('  (add -H "authorization: Bearer $SLUICE_AUTH_TOKEN" on /v1 routes)');
    // What curl would get for that argument, as a POSIX shell passes it.
    const argument = /-H ("[^"]*"|'[^']*')/.exec(hint)![1]!;
    const passed = execFileSync('sh', ['-c', `printf '%s' ${argument}`], { env: { PATH: process.env.PATH, SLUICE_AUTH_TOKEN: 's3cret' }, encoding: 'utf8' });
    expect(passed).toBe('authorization: Bearer s3cret');
  });
});
