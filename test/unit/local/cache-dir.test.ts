import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { userCacheDir } from '../../../lib/local/cache-dir.ts';

const HOME = '/home/ada';

describe('userCacheDir', () => {
  it('is ~/.cache/sluice on Linux and macOS by default', () => {
    expect(userCacheDir({}, 'linux', HOME)).toBe('/home/ada/.cache/sluice');
    expect(userCacheDir({}, 'darwin', HOME)).toBe('/home/ada/.cache/sluice');
  });

  it('follows an absolute XDG_CACHE_HOME and ignores a relative one', () => {
    expect(userCacheDir({ XDG_CACHE_HOME: '/var/cache/ada' }, 'linux', HOME)).toBe('/var/cache/ada/sluice');
    expect(userCacheDir({ XDG_CACHE_HOME: 'cache' }, 'linux', HOME)).toBe('/home/ada/.cache/sluice');
  });

  it('is %LOCALAPPDATA%\\sluice on Windows', () => {
    expect(userCacheDir({ LOCALAPPDATA: 'C:\\Users\\ada\\AppData\\Local' }, 'win32', 'C:\\Users\\ada')).toBe(
      'C:\\Users\\ada\\AppData\\Local\\sluice',
    );
    expect(userCacheDir({}, 'win32', 'C:\\Users\\ada')).toBe('C:\\Users\\ada\\AppData\\Local\\sluice');
  });

  it('lets SLUICE_CACHE_DIR override every platform default, resolved to an absolute path', () => {
    expect(userCacheDir({ SLUICE_CACHE_DIR: '/opt/sluice-cache', XDG_CACHE_HOME: '/x' }, 'linux', HOME)).toBe('/opt/sluice-cache');
    expect(userCacheDir({ SLUICE_CACHE_DIR: 'rel/cache' }, 'linux', HOME)).toBe(resolve('rel/cache'));
  });

  it('treats an empty SLUICE_CACHE_DIR as unset', () => {
    expect(userCacheDir({ SLUICE_CACHE_DIR: '' }, 'linux', HOME)).toBe('/home/ada/.cache/sluice');
  });
});
