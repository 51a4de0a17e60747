/**
 * Benchmark dispatcher: `npm run bench -- <name>` (= `tsx bench/run.ts <name>`) runs the
 * exported `run()` of bench/<name>.ts. Register a new bench with one line below.
 */

interface Bench {
  run(args: string[]): Promise<void> | void;
}

const benches: Record<string, () => Promise<Bench>> = {
  codec: () => import('./codec.ts'),
  'produce-fetch': () => import('./produce-fetch.ts'),
  contention: () => import('./contention.ts'),
  describe: () => import('./describe.ts'),
  'local-durability': () => import('./local-durability.ts'),
  maintenance: () => import('./maintenance.ts'),
  compaction: () => import('./compaction.ts'),
  client: () => import('./client.ts'),
  'cold-start': () => import('./cold-start.ts'),
  console: () => import('./console.ts'),
  'aws-model': () => import('./aws-model.ts'),
  'sse-latency': () => import('./sse-latency.ts'),
};

const [name, ...args] = process.argv.slice(2);
const load = name === undefined ? undefined : benches[name];
if (load === undefined) {
  console.error(`usage: npm run bench -- <${Object.keys(benches).join('|')}>`);
  process.exit(2);
}
await (await load()).run(args);
