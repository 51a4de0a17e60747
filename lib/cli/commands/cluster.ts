/**
 * `sluice cluster`: what the server says about itself (GET /v1/cluster): its version, its
 * backend and the request limits a client has to stay within.
 */
import { Command } from 'commander';
import type { ClusterInfo } from '../../client/types.ts';
import { addClientOptions, runClient } from '../client-options.ts';
import { examples, renderTable } from '../text-output.ts';

export function clusterCommand(): Command {
  return addClientOptions(new Command('cluster'))
    .description("Show the server's version, backend and limits")
    .addHelpText('after', examples('sluice cluster', 'sluice cluster --url https://abc123.execute-api.eu-west-1.amazonaws.com --sigv4 --region eu-west-1 --json'))
    .action((_flags: unknown, cmd: Command) =>
      runClient(cmd, async (ctx) => {
        const info = await ctx.admin.cluster();
        if (ctx.json) return ctx.printJson(info);
        for (const line of clusterLines(info)) ctx.out(line);
      }),
    );
}

export function clusterLines(info: ClusterInfo): string[] {
  const limits = Object.entries(info.limits).map(([k, v]) => [k, String(v)]);
  return [`version  ${info.version}`, `backend  ${info.backend}`, 'limits:', ...renderTable(['LIMIT', 'VALUE'], limits).slice(1).map((l) => `  ${l}`)];
}
