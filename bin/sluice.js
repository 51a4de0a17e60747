#!/usr/bin/env node
// Launcher for the `sluice` command: registers tsx's loader in THIS process and runs
// lib/cli/main.ts (the CLI stays TypeScript; no build step). One process, not a child: a
// terminal's Ctrl-C reaches the CLI once, signals need no forwarding, and the exit status is
// the CLI's own.
import { register } from 'tsx/esm/api';

register();
const { main } = await import(new URL('../lib/cli/main.ts', import.meta.url).href);
await main(process.argv);
