/**
 * Fault injection on REAL AWS SDK clients (no mocks): middleware in the `initialize` step sees
 * every logical `send()` (our own retry loop included, the SDK's internal retries below it
 * not), its command name and input, and may count, fail, delay, or run-then-fail the call.
 *
 *   const stack = isolatedStack({ slotTimeoutMs: 1500 });   // fresh clients: nothing leaks
 *   const calls = countCalls(stack.deps.clients.dynamo);
 *   const fault = failCalls(stack.deps.clients.s3, { command: 'PutObjectCommand' }, serviceUnavailable);
 *   ...
 *   fault.disable(); calls.reset(); stack.dispose();
 *
 * `stackDeps()` shares one pair of clients per worker, so fault tests build their own clients
 * here (`isolatedStack`) and destroy them at the end: middleware never outlives its test.
 */
import { inject } from 'vitest';
import type { Hono } from 'hono';
import { createApp } from '../../lib/api/app.ts';
import type { LogTuning, SluiceDeps } from '../../lib/deps.ts';
import { createServices, type Services } from '../../lib/services.ts';
import { createAwsClients } from '../../lib/storage/clients.ts';
import { stackDeps } from './stack.ts';

export type CommandName =
  | 'PutItemCommand'
  | 'UpdateItemCommand'
  | 'TransactWriteItemsCommand'
  | 'QueryCommand'
  | 'GetItemCommand'
  | 'PutObjectCommand'
  | 'GetObjectCommand'
  | (string & {});

/** One intercepted call: the command's name and its input (as passed to the command). */
export interface InterceptedCall {
  readonly commandName: string;
  readonly input: any;
}

/** Which calls a fault applies to. */
export interface CallMatcher {
  /** Command name(s); all commands when omitted. */
  readonly command?: CommandName | readonly CommandName[];
  /** Extra condition on the input (e.g. the table, or a data entry vs a hole). */
  readonly where?: (input: InterceptedCall['input']) => boolean;
}

/** Structural view of an SDK client's middleware stack (S3Client and DynamoDBClient alike). */
export interface FaultableClient {
  readonly middlewareStack: {
    add(middleware: any, options: any): void;
    remove(name: string): boolean;
  };
}

type Handler = (call: InterceptedCall, next: () => Promise<unknown>) => Promise<unknown>;

let middlewareSeq = 0;

/** Adds a handler around every call of `client`; returns its remover. */
export function intercept(client: FaultableClient, handler: Handler, priority: 'high' | 'normal' = 'normal'): () => void {
  const name = `test-fault-${++middlewareSeq}`;
  client.middlewareStack.add(
    (next: (args: any) => Promise<unknown>, context: { commandName?: string }) => async (args: { input: unknown }) =>
      handler({ commandName: context.commandName ?? 'unknown', input: args.input }, () => next(args)),
    { step: 'initialize', priority, name },
  );
  return () => {
    client.middlewareStack.remove(name);
  };
}

export function matches(matcher: CallMatcher, call: InterceptedCall): boolean {
  const { command, where } = matcher;
  if (command !== undefined) {
    const names: readonly string[] = typeof command === 'string' ? [command] : (command as readonly string[]);
    if (!names.includes(call.commandName)) return false;
  }
  return where ? where(call.input) : true;
}

// ---- counting ---------------------------------------------------------------------------

export interface CallCounter {
  /** Calls per command name since the last reset. */
  counts(): Record<string, number>;
  count(command: CommandName): number;
  total(): number;
  /** Inputs of matching calls since the last reset, in call order. */
  calls(command?: CommandName): InterceptedCall[];
  reset(): void;
  remove(): void;
}

/**
 * Counts every call (runs outermost, so it also counts calls that a fault then fails).
 */
export function countCalls(client: FaultableClient): CallCounter {
  let seen: InterceptedCall[] = [];
  const remove = intercept(
    client,
    async (call, next) => {
      seen.push(call);
      return next();
    },
    'high',
  );
  return {
    counts: () => {
      const out: Record<string, number> = {};
      for (const c of seen) out[c.commandName] = (out[c.commandName] ?? 0) + 1;
      return out;
    },
    count: (command) => seen.filter((c) => c.commandName === command).length,
    total: () => seen.length,
    calls: (command) => (command === undefined ? [...seen] : seen.filter((c) => c.commandName === command)),
    reset: () => {
      seen = [];
    },
    remove,
  };
}

// ---- failing ----------------------------------------------------------------------------

export interface Fault {
  /** Matching calls this fault has failed (or run-then-failed) so far. */
  readonly fired: number;
  /** Turns the fault on again (faults start enabled). */
  enable(): void;
  /** Turns it off; matching calls go through untouched. */
  disable(): void;
  readonly enabled: boolean;
  remove(): void;
}

export interface FaultOptions {
  /** Fail at most this many matching calls, then let the rest through (default: unlimited). */
  readonly times?: number;
  /**
   * 'before': the call never reaches the server (a refused or lost request).
   * 'after': the call runs on the server, then the client sees the error (a crash after the
   * step, or a lost response).
   */
  readonly when?: 'before' | 'after';
}

/** A Fault around `handler`, which is consulted only while enabled and under its limit. */
function controlledFault(
  client: FaultableClient,
  matcher: CallMatcher,
  limit: number,
  handler: (call: InterceptedCall, next: () => Promise<unknown>, count: () => void) => Promise<unknown>,
): Fault {
  let enabled = true;
  let fired = 0;
  const remove = intercept(client, async (call, next) => {
    if (!enabled || fired >= limit || !matches(matcher, call)) return next();
    return handler(call, next, () => void fired++);
  });
  return {
    get fired() {
      return fired;
    },
    get enabled() {
      return enabled;
    },
    enable: () => {
      enabled = true;
    },
    disable: () => {
      enabled = false;
    },
    remove,
  };
}

function fault(client: FaultableClient, matcher: CallMatcher, makeError: () => Error, opts: FaultOptions): Fault {
  return controlledFault(client, matcher, opts.times ?? Infinity, async (_call, next, count) => {
    count();
    if (opts.when === 'after') await next();
    throw makeError();
  });
}

/**
 * Fails matching calls before they reach the server: every one while enabled (fail-while-flag:
 * `disable()` / `enable()`), or the first `times` (fail-N-times).
 */
export function failCalls(client: FaultableClient, matcher: CallMatcher, makeError: () => Error, opts: { times?: number } = {}): Fault {
  return fault(client, matcher, makeError, { ...opts, when: 'before' });
}

/** Lets matching calls run on the server, then throws to the caller (crash after the step). */
export function runThenThrow(client: FaultableClient, matcher: CallMatcher, makeError: () => Error, opts: { times?: number } = {}): Fault {
  return fault(client, matcher, makeError, { ...opts, when: 'after' });
}

/**
 * Lets matching GETs run on the server, then hands the caller a body `dropBytes` shorter than
 * the one the server sent (a response cut short in transit). The replacement body offers
 * `transformToByteArray`, the one reader Sluice uses.
 */
export function shortBodies(client: FaultableClient, matcher: CallMatcher, opts: { times?: number; dropBytes?: number } = {}): Fault {
  const drop = opts.dropBytes ?? 1;
  return controlledFault(client, matcher, opts.times ?? Infinity, async (_call, next, count) => {
    const result = (await next()) as { output: { Body?: { transformToByteArray(): Promise<Uint8Array> } } };
    const body = result.output.Body;
    if (!body) return result;
    count();
    const bytes = await body.transformToByteArray();
    const short = bytes.subarray(0, Math.max(0, bytes.byteLength - drop));
    return { ...result, output: { ...result.output, Body: { transformToByteArray: async () => short } } };
  });
}

// ---- pausing ----------------------------------------------------------------------------

export interface Gate {
  /** Resolves once a matching call is being held. */
  readonly reached: Promise<void>;
  /** Lets the held call (and any later one) proceed. */
  release(): void;
  remove(): void;
}

/** Holds the first `times` (default 1) matching calls until `release()`. */
export function pauseUntilReleased(client: FaultableClient, matcher: CallMatcher, opts: { times?: number } = {}): Gate {
  const limit = opts.times ?? 1;
  let held = 0;
  let onReached!: () => void;
  const reached = new Promise<void>((resolve) => {
    onReached = resolve;
  });
  let open!: () => void;
  const released = new Promise<void>((resolve) => {
    open = resolve;
  });
  const remove = intercept(client, async (call, next) => {
    if (held >= limit || !matches(matcher, call)) return next();
    held++;
    onReached();
    await released;
    return next();
  });
  return { reached, release: () => open(), remove };
}

// ---- errors as the SDK throws them ------------------------------------------------------

function sdkError(name: string, message: string, status: number | undefined): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: status !== undefined && status >= 500 ? 'server' : 'client',
    $metadata: status === undefined ? {} : { httpStatusCode: status },
  });
}

/** S3 / DynamoDB briefly down: retriable. */
export const serviceUnavailable = (): Error => sdkError('ServiceUnavailable', 'down', 503);
/** DynamoDB throttling: retriable, maps to 429. */
export const throttling = (): Error => sdkError('ThrottlingException', 'Rate of requests exceeds the allowed throughput', 400);
/** S3 throttling: retriable, maps to 429. */
export const slowDown = (): Error => sdkError('SlowDown', 'Please reduce your request rate', 503);
/**
 * Not retriable, no HTTP status: what the caller sees when the function dies right there
 * (a crash), from its own point of view the request just failed.
 */
export const crash = (): Error => Object.assign(new Error('simulated crash'), { name: 'SimulatedCrash' });

// ---- isolated deps ----------------------------------------------------------------------

export interface IsolatedStack {
  readonly deps: SluiceDeps;
  readonly services: Services;
  readonly app: Hono;
  /** Destroys this stack's own SDK clients (and with them every middleware added to them). */
  dispose(): void;
}

/**
 * Deps with their OWN SDK clients against the shared emulators, plus services and an app over
 * them: middleware added to these clients cannot leak into other tests.
 */
export function isolatedStack(tuning: Partial<LogTuning> = { slotTimeoutMs: 1500 }): IsolatedStack {
  const stack = inject('sluiceStack');
  const clients = createAwsClients({
    dynamoEndpoint: stack.dynamoEndpoint,
    s3Endpoint: stack.s3Endpoint,
    region: 'us-east-1',
    dummyCredentials: true,
  });
  const deps = stackDeps({ clients, tuning });
  const services = createServices(deps);
  return {
    deps,
    services,
    app: createApp(deps, services),
    dispose: () => {
      clients.dynamo.destroy();
      clients.s3.destroy();
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
