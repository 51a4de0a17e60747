import { afterEach, describe, expect, it, vi } from 'vitest';
import { NetworkError, UnknownTopicOrPartitionError } from '../../../lib/client/errors.ts';
import { commanderExitCode, connectionOptions, describeFailure, DEFAULT_URL } from '../../../lib/cli/client-options.ts';
import { consumePlan } from '../../../lib/cli/commands/consume.ts';
import { resetTarget } from '../../../lib/cli/commands/groups.ts';
import { buildProgram } from '../../../lib/cli/main.ts';
import { UsageError } from '../../../lib/cli/parse.ts';

describe('connectionOptions', () => {
  it('defaults to the local dev server; flags win over the environment', () => {
    expect(connectionOptions({}, {})).toEqual({ url: DEFAULT_URL });
    expect(connectionOptions({}, { SLUICE_URL: 'https://x.example', SLUICE_TOKEN: 't' })).toEqual({ url: 'https://x.example', token: 't' });
    expect(connectionOptions({ url: 'http://h:1', token: 'f' }, { SLUICE_URL: 'https://x.example', SLUICE_TOKEN: 't' })).toEqual({ url: 'http://h:1', token: 'f' });
  });

  it('--sigv4 takes the region from --region, else AWS_REGION, and ignores SLUICE_TOKEN', () => {
    expect(connectionOptions({ sigv4: true, region: 'eu-west-1' }, { SLUICE_TOKEN: 't' })).toEqual({ url: DEFAULT_URL, sigv4: { region: 'eu-west-1' } });
    expect(connectionOptions({ sigv4: true }, { AWS_REGION: 'us-east-2' })).toEqual({ url: DEFAULT_URL, sigv4: { region: 'us-east-2' } });
    expect(connectionOptions({ sigv4: true }, { AWS_DEFAULT_REGION: 'ap-south-1' })).toEqual({ url: DEFAULT_URL, sigv4: { region: 'ap-south-1' } });
  });

  it("--region's help names both environment variables, on every client command", async () => {
    const program = await buildProgram({ server: false });
    const commands = program.commands.flatMap((c) => (c.commands.length > 0 ? c.commands : [c]));
    expect(commands.length).toBeGreaterThan(10);
    for (const cmd of commands) expect(cmd.options.find((o) => o.long === '--region')?.description, cmd.name()).toBe('AWS region for --sigv4 (env AWS_REGION, else AWS_DEFAULT_REGION)');
  });

  it('refuses what cannot work', () => {
    expect(() => connectionOptions({ sigv4: true }, {})).toThrow('--sigv4 needs a region: pass --region or set AWS_REGION (or AWS_DEFAULT_REGION)');
    // --token with --sigv4 is for auth 'both' (the token goes in X-Sluice-Token); SLUICE_TOKEN alone never joins a SigV4 call.
    expect(connectionOptions({ sigv4: true, token: 't', region: 'r' }, {})).toMatchObject({ sigv4: { region: 'r' }, token: 't' });
    expect(connectionOptions({ sigv4: true, region: 'r' }, { SLUICE_TOKEN: 'env' })).not.toHaveProperty('token');
    expect(() => connectionOptions({ region: 'r' }, {})).toThrow(/only applies with --sigv4/);
    expect(() => connectionOptions({ url: 'localhost:8080' }, {})).toThrow(UsageError);
  });
});

describe('describeFailure', () => {
  it('a server error: its code and message on one line, exit 1', () => {
    const err = new UnknownTopicOrPartitionError("topic 'x'\ndoes not exist", { status: 404 });
    expect(describeFailure(err, DEFAULT_URL)).toEqual({ line: "sluice: UNKNOWN_TOPIC_OR_PARTITION: topic 'x' does not exist", exitCode: 1 });
  });

  it('no answer: says which URL could not be reached, with the innermost cause', () => {
    const cause = new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:8080') });
    const err = new NetworkError('GET /v1/topics: fetch failed', { retriable: true, cause });
    expect(describeFailure(err, DEFAULT_URL)).toEqual({ line: `sluice: NETWORK_ERROR: could not reach ${DEFAULT_URL}: connect ECONNREFUSED 127.0.0.1:8080`, exitCode: 1 });
  });

  it('a usage error exits 2', () => {
    expect(describeFailure(new UsageError('bad'), undefined)).toEqual({ line: 'sluice: usage: bad', exitCode: 2 });
  });
});

describe('usage errors from commander', () => {
  const stderr: string[] = [];
  afterEach(() => {
    vi.restoreAllMocks();
    stderr.length = 0;
  });

  /** Parses in process; answers the exit code main() would set and what went to stderr. */
  async function run(args: string[]): Promise<{ exitCode: number; stderr: string }> {
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => (stderr.push(String(s)), true));
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      await (await buildProgram()).parseAsync(args, { from: 'user' });
      return { exitCode: 0, stderr: stderr.join('') };
    } catch (err) {
      return { exitCode: commanderExitCode(err as never), stderr: stderr.join('') };
    }
  }

  it.each([
    [['topics', 'create', 'x', '--nope'], "sluice: usage: unknown option '--nope' (see 'sluice topics create --help')\n"],
    [['topics', 'describe'], "sluice: usage: missing required argument 'name' (see 'sluice topics describe --help')\n"],
    [['consume', 't', '-c', '0'], "sluice: usage: option '-c, --count <n>' argument '0' is invalid. expected an integer ≥ 1 (see 'sluice consume --help')\n"],
    [['groups', 'list', '--jsn'], "sluice: usage: unknown option '--jsn' (Did you mean --json?)\n"],
    [['produce', 't', '--encoding', 'xml'], "sluice: usage: option '--encoding <encoding>' argument 'xml' is invalid. Allowed choices are string, json, base64. (see 'sluice produce --help')\n"],
    [['topics'], "sluice: usage: 'sluice topics' needs a command: create, list, describe, alter, delete (see 'sluice topics --help')\n"],
    [['groups'], "sluice: usage: 'sluice groups' needs a command: list, describe, reset-offsets, delete (see 'sluice groups --help')\n"],
    [['maintenance'], "sluice: usage: 'sluice maintenance' needs a command: run (see 'sluice maintenance --help')\n"],
    [['topics', 'bogus'], "sluice: usage: unknown command 'bogus' (see 'sluice topics --help')\n"],
  ])('%j: one line, exit 2', async (args, line) => {
    expect(await run(args)).toEqual({ exitCode: 2, stderr: line });
  });

  it('--help exits 0, for a command made of subcommands too', async () => {
    expect((await run(['topics', 'create', '--help'])).exitCode).toBe(0);
    expect((await run(['topics', '--help'])).exitCode).toBe(0);
  });

  it('the root alone prints its help (on stderr) and exits 2', async () => {
    const { exitCode, stderr } = await run([]);
    expect(exitCode).toBe(2);
    expect(stderr).toMatch(/^Usage: sluice \[options\] \[command\]\n/);
    expect(stderr).toMatch(/\n {2}topics +Create, list, describe, alter and delete topics\n/);
  });
});

describe('consume flags', () => {
  it('starts at the end by default; one start option at most', () => {
    expect(consumePlan({})).toMatchObject({ start: 'latest', follow: false, encoding: 'string' });
    expect(consumePlan({ fromBeginning: true }).start).toBe('earliest');
    expect(consumePlan({ offset: -3 }).start).toEqual({ offset: -3 });
    expect(consumePlan({ timestamp: '2024-05-01T00:00:00Z' }).start).toEqual({ timestamp: Date.UTC(2024, 4, 1) });
    expect(() => consumePlan({ fromBeginning: true, timestamp: '1' })).toThrow('--from-beginning and --timestamp cannot be used together');
  });

  it('with --group: --from-beginning yes, --offset, --timestamp and --partition no', () => {
    expect(consumePlan({ group: 'g', fromBeginning: true })).toMatchObject({ group: 'g', start: 'earliest' });
    for (const extra of [{ offset: 1 }, { timestamp: '1' }, { partition: 0 }]) {
      expect(() => consumePlan({ group: 'g', ...extra })).toThrow(UsageError);
    }
  });

  it('--json and --format exclude each other; a bad format is refused up front', () => {
    expect(consumePlan({ json: true }).format).toBeUndefined();
    expect(() => consumePlan({ json: true, format: '%s' })).toThrow(UsageError);
    expect(() => consumePlan({ format: '%y' })).toThrow(/unknown token/);
  });
});

describe('reset-offsets --to-*', () => {
  it('exactly one', () => {
    expect(resetTarget({ toEarliest: true })).toBe('earliest');
    expect(resetTarget({ toLatest: true })).toBe('latest');
    expect(resetTarget({ toOffset: 0 })).toEqual({ offset: 0 });
    expect(resetTarget({ toDatetime: '2024-05-01T00:00:00Z' })).toEqual({ timestamp: Date.UTC(2024, 4, 1) });
    expect(() => resetTarget({})).toThrow(/is required/);
    expect(() => resetTarget({ toEarliest: true, toOffset: 3 })).toThrow(/only one of/);
    expect(() => resetTarget({ toDatetime: 'soon' })).toThrow(UsageError);
  });
});
