/** Browser stand-in for default-credentials.ts: there is no default chain in a browser. */
import type { AwsCredentials } from './transport.ts';

export async function defaultCredentials(): Promise<() => Promise<AwsCredentials>> {
  throw new TypeError('sigv4 in a browser needs explicit credentials (e.g. from Cognito); or use a token');
}
