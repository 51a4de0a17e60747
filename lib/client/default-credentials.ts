/**
 * The AWS SDK's default credential chain (environment, shared config and SSO, web identity,
 * container and instance roles), for SigV4 requests made without explicit credentials. Loaded
 * on demand, so a client that never signs never loads it. Browser builds replace this module
 * with default-credentials.browser.ts (the chain reads files and the instance metadata service,
 * which a browser has not).
 */
import type { AwsCredentials } from './transport.ts';

export async function defaultCredentials(): Promise<() => Promise<AwsCredentials>> {
  const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
  return defaultProvider();
}
