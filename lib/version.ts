/** Kept equal to package.json's version (a unit test checks), without a JSON import at cold start. */
export const SLUICE_VERSION = '0.1.0';
