/**
 * Where Sluice caches what it provisions for local runs (today: the DynamoDB Local jar).
 *
 * A per-user directory, outside the project: `npm ci` deletes `node_modules`, and a cache in
 * there would be provisioned again after every clean install. Every checkout of Sluice on the
 * machine shares it; entries are named by version, so checkouts pinning different versions
 * do not collide.
 *
 *   SLUICE_CACHE_DIR set        that directory (relative = to the working directory)
 *   Windows                     %LOCALAPPDATA%\sluice
 *   elsewhere (Linux, macOS)    $XDG_CACHE_HOME/sluice, else ~/.cache/sluice
 *
 * An XDG_CACHE_HOME that is not absolute is ignored, as the XDG Base Directory spec asks.
 */
import { homedir } from 'node:os';
import { posix, resolve, win32 } from 'node:path';

export const CACHE_DIR_ENV = 'SLUICE_CACHE_DIR';

export function userCacheDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  const override = env[CACHE_DIR_ENV]?.trim();
  if (override) return resolve(override);
  if (platform === 'win32') {
    const localAppData = env.LOCALAPPDATA?.trim();
    return win32.join(localAppData || win32.join(home, 'AppData', 'Local'), 'sluice');
  }
  const xdg = env.XDG_CACHE_HOME?.trim();
  return posix.join(xdg && posix.isAbsolute(xdg) ? xdg : posix.join(home, '.cache'), 'sluice');
}
