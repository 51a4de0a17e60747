/**
 * The public entry: an API Gateway HTTP API in front of the API function.
 *
 * - IAM (SigV4) is the default authorizer (API.md: "in AWS, IAM (SigV4) on the HTTP API by
 *   default"): callers need `execute-api:Invoke` on the API; unsigned requests get 403 from
 *   API Gateway and never reach Lambda.
 * - `ANY /{proxy+}` sends every path to the one Hono app, which does its own routing, so
 *   adding a route never needs an infra change.
 * - `GET /healthz` is the only unauthenticated route, for load balancers and smoke tests.
 * - Payload format 2.0, which `hono/aws-lambda` reads (rawPath, rawQueryString, cookies).
 */
import { CfnOutput, Stack } from 'aws-cdk-lib';
import {
  HttpApi,
  HttpMethod,
  HttpNoneAuthorizer,
  PayloadFormatVersion,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

export interface SluiceHttpApiProps {
  /** The function serving the Hono app. */
  readonly handler: IFunction;
}

export class SluiceHttpApi extends Construct {
  readonly api: HttpApi;
  /** Base URL, no trailing slash (the `$default` stage has no path prefix). */
  readonly url: string;

  constructor(scope: Construct, id: string, props: SluiceHttpApiProps) {
    super(scope, id);
    const stackName = Stack.of(this).stackName;
    this.api = new HttpApi(this, 'HttpApi', {
      apiName: `${stackName}-api`,
      description: 'Sluice REST API (v1): a Kafka-semantics log on S3 and DynamoDB',
      defaultAuthorizer: new HttpIamAuthorizer(),
      createDefaultStage: true,
    });
    const integration = new HttpLambdaIntegration('AppIntegration', props.handler, {
      payloadFormatVersion: PayloadFormatVersion.VERSION_2_0,
    });
    this.api.addRoutes({ path: '/{proxy+}', methods: [HttpMethod.ANY], integration });
    this.api.addRoutes({
      path: '/healthz',
      methods: [HttpMethod.GET],
      integration,
      authorizer: new HttpNoneAuthorizer(),
    });
    this.url = this.api.apiEndpoint;

    const output = new CfnOutput(this, 'Url', {
      value: this.url,
      description: 'Base URL of the Sluice API (SigV4-signed requests, service execute-api)',
    });
    // A stable output key for scripts and docs (`ApiUrl`), not a path-derived hash.
    output.overrideLogicalId('ApiUrl');
  }
}
