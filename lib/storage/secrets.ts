/**
 * Secrets Manager: the bootstrap admin token's SecretString (SLUICE_AUTH_SECRET_ARN), read once
 * per process (Lambda: once per cold start) by lib/auth's Authenticator. The client is made on
 * first use, in the region of the DynamoDB client (the stack's region), with the SDK's default
 * credentials (the function's role, which the stack grants secretsmanager:GetSecretValue on
 * that one secret).
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { AwsClients } from './clients.ts';
import { toSluiceError } from './aws-errors.ts';
import { withRetries } from './retry.ts';

export async function readSecretString(clients: AwsClients, secretArn: string): Promise<string> {
  const region = await clients.dynamo.config.region();
  const client = new SecretsManagerClient({ region, maxAttempts: 3 });
  try {
    const out = await withRetries('read the auth token secret', () => client.send(new GetSecretValueCommand({ SecretId: secretArn })));
    const value = out.SecretString?.trim();
    if (value === undefined || value === '') throw new Error(`secret ${secretArn} has no SecretString: the bootstrap admin token`);
    return value;
  } catch (err) {
    throw toSluiceError(err, 'read the auth token secret');
  } finally {
    client.destroy();
  }
}
