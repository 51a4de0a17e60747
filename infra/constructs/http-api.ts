/**
 * The public entry: an API Gateway HTTP API in front of the API function.
 *
 * - Authorization by `auth` mode (SluiceAuthMode): `iam` (the default, API.md: "in AWS, IAM
 *   (SigV4) on the HTTP API by default") puts the IAM authorizer on every route but
 *   `/healthz`: callers need `execute-api:Invoke` on the route's ARN, unsigned requests get
 *   403 from API Gateway and never reach Lambda. `token` leaves the gateway open and the app
 *   checks bearer tokens; `both` does both.
 * - `ANY /{proxy+}` sends every path to the one Hono app, which does its own routing, so
 *   adding a route never needs an infra change. IAM still sees the real method and path:
 *   the ARN it authorises is `<apiId>/$default/<METHOD>/<path>`, so policies can allow
 *   single routes (SluiceLog.grantProduce / grantConsume).
 * - With `fetchHandler`, the read routes (FETCH_ROUTES) go to that function instead: the same
 *   Hono app (same bundle and handler) deployed a second time with less memory and a
 *   read-only role. API Gateway picks the most specific route, so only these paths move;
 *   they keep the stage's authorizer (IAM unless `token`), and their ARNs are the same
 *   request paths as before, so execute-api grants do not change.
 * - `GET /healthz` is unauthenticated, for load balancers and monitors, and so are
 *   `GET /console` and `GET /console/{proxy+}`: the web console's static page and hashed
 *   assets (docs/CONSOLE.md), which hold no data; every API call the page makes carries the
 *   user's bearer token, so the console needs `auth: 'token'` to reach /v1 (in `both` the
 *   gateway also demands SigV4, which a browser does not sign).
 * - Payload format 2.0, which `hono/aws-lambda` reads (rawPath, rawQueryString, cookies).
 * - The `$default` stage is declared here (not by HttpApi) to carry default throttling and
 *   JSON access logs to a log group with a retention.
 * - An optional custom domain (an ACM certificate in the API's region) mapped to that stage.
 */
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  DomainName,
  HttpApi,
  HttpMethod,
  HttpNoneAuthorizer,
  HttpStage,
  type HttpRoute,
  LogGroupLogDestination,
  PayloadFormatVersion,
  type IHttpRouteAuthorizer,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';

/** How callers authenticate: IAM (SigV4) at the gateway, app tokens, or both. */
export const SLUICE_AUTH_MODES = ['iam', 'token', 'both'] as const;
export type SluiceAuthMode = (typeof SLUICE_AUTH_MODES)[number];

/** The stage every route lives on; route ARNs are `<apiId>/$default/<METHOD>/<path>`. */
export const API_STAGE = '$default';

/** Default throttling of the stage (requests per second, steady and burst). */
export const DEFAULT_THROTTLE = { rateLimit: 1000, burstLimit: 2000 } as const;

/** One JSON object per request (HTTP API `$context` variables). */
export const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTimeEpoch',
  ip: '$context.identity.sourceIp',
  caller: '$context.identity.userArn',
  method: '$context.httpMethod',
  path: '$context.path',
  routeKey: '$context.routeKey',
  protocol: '$context.protocol',
  status: '$context.status',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  authError: '$context.authorizer.error',
} as const;

/**
 * The routes the fetch function serves (lib/api/routes/records.ts): the reads of records and
 * offsets, which only read the log (and repair its index, see SluiceLog). Fetch and multi-fetch
 * long-poll (up to LIMITS.maxWaitMs); offset lookups do not wait but make the same storage
 * calls as a fetch (stable view, entries, segment reads) and are what a consumer calls next to
 * fetch. Topic metadata, groups and everything else stay on the API function.
 */
export const FETCH_ROUTES = [
  { method: HttpMethod.GET, path: '/v1/topics/{topic}/partitions/{partition}/records' },
  { method: HttpMethod.GET, path: '/v1/topics/{topic}/partitions/{partition}/offsets' },
  { method: HttpMethod.POST, path: '/v1/fetch' },
] as const;

export interface SluiceCustomDomain {
  /** e.g. `sluice.example.com`; point a DNS alias (CNAME or Route 53 alias) at `regionalDomainName`. */
  readonly domainName: string;
  /** An ACM certificate for that name, in the stack's region. */
  readonly certificate: acm.ICertificate;
}

export interface SluiceHttpApiProps {
  /** The function serving the Hono app. */
  readonly handler: IFunction;
  /**
   * A second function with the same app that serves FETCH_ROUTES.
   * @default none: `handler` serves every route
   */
  readonly fetchHandler?: IFunction;
  /** @default 'iam' */
  readonly auth?: SluiceAuthMode;
  /** Steady-state requests per second of the stage. @default 1000 */
  readonly throttleRateLimit?: number;
  /** Burst of the stage. @default 2000 */
  readonly throttleBurstLimit?: number;
  /** Retention of the access log group. @default one month */
  readonly accessLogRetention?: logs.RetentionDays;
  /** Removal policy of the access log group. @default RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** Customer managed key of the access log group. @default CloudWatch Logs' own encryption */
  readonly logEncryptionKey?: kms.IKey;
  /** @default none: the `execute-api` endpoint only */
  readonly customDomain?: SluiceCustomDomain;
}

export class SluiceHttpApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  /** `GET /console` and `GET /console/{proxy+}`, without the IAM authorizer. */
  readonly consoleRoutes: readonly HttpRoute[];
  /** The FETCH_ROUTES routes, to `fetchHandler` (empty without one). */
  readonly fetchRoutes: readonly HttpRoute[];
  readonly accessLogs: logs.LogGroup;
  readonly domainName?: DomainName;
  /** Base URL, no trailing slash: the custom domain when given, else the `execute-api` endpoint. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: SluiceHttpApiProps) {
    super(scope, id);
    const auth = props.auth ?? 'iam';
    if (!SLUICE_AUTH_MODES.includes(auth)) {
      throw new Error(`auth must be one of ${SLUICE_AUTH_MODES.join(', ')}, got ${String(auth)}`);
    }
    const stackName = Stack.of(this).stackName;
    const authorizer: IHttpRouteAuthorizer =
      auth === 'token' ? new HttpNoneAuthorizer() : new HttpIamAuthorizer();
    this.api = new HttpApi(this, 'HttpApi', {
      apiName: `${stackName}-api`,
      description: 'Sluice REST API (v1): a Kafka-semantics log on S3 and DynamoDB',
      defaultAuthorizer: authorizer,
      createDefaultStage: false,
    });
    const integration = new HttpLambdaIntegration('AppIntegration', props.handler, {
      payloadFormatVersion: PayloadFormatVersion.VERSION_2_0,
    });
    const [proxy] = this.api.addRoutes({ path: '/{proxy+}', methods: [HttpMethod.ANY], integration });
    const [health] = this.api.addRoutes({
      path: '/healthz',
      methods: [HttpMethod.GET],
      integration,
      authorizer: new HttpNoneAuthorizer(),
    });
    NagSuppressions.addResourceSuppressions(health!, [
      {
        id: 'AwsSolutions-APIG4',
        reason:
          'GET /healthz must be callable by load balancers and monitors without credentials; ' +
          'it answers {"status":"ok"} and reads no data',
      },
    ]);
    // The web console (lib/api/console.ts): public static content, served by the same app.
    const consoleRoutes = [
      ...this.api.addRoutes({ path: '/console', methods: [HttpMethod.GET], integration, authorizer: new HttpNoneAuthorizer() }),
      ...this.api.addRoutes({ path: '/console/{proxy+}', methods: [HttpMethod.GET], integration, authorizer: new HttpNoneAuthorizer() }),
    ];
    for (const route of consoleRoutes) {
      NagSuppressions.addResourceSuppressions(route, [
        {
          id: 'AwsSolutions-APIG4',
          reason:
            'the web console is public static content (index.html and hashed JS/CSS) and reads no ' +
            'data; every /v1 call the page makes carries the user\'s bearer token',
        },
      ]);
    }
    this.consoleRoutes = consoleRoutes;
    const fetchRoutes: HttpRoute[] = [];
    if (props.fetchHandler) {
      // Its own integration (and invoke permission) for the fetch function; added after the
      // existing routes, whose logical ids stay as they were.
      const fetchIntegration = new HttpLambdaIntegration('FetchIntegration', props.fetchHandler, {
        payloadFormatVersion: PayloadFormatVersion.VERSION_2_0,
      });
      for (const route of FETCH_ROUTES) {
        fetchRoutes.push(
          ...this.api.addRoutes({ path: route.path, methods: [route.method], integration: fetchIntegration }),
        );
      }
    }
    this.fetchRoutes = fetchRoutes;
    if (auth === 'token') {
      NagSuppressions.addResourceSuppressions(proxy!, [
        {
          id: 'AwsSolutions-APIG4',
          reason:
            'auth "token": the app authenticates every /v1 request with a bearer token and ' +
            'authorizes it by ACL before any data access (API.md "Tokens and ACLs")',
        },
      ]);
      for (const route of fetchRoutes) {
        NagSuppressions.addResourceSuppressions(route, [
          {
            id: 'AwsSolutions-APIG4',
            reason:
              'auth "token": the fetch function runs the same app, which authenticates the bearer ' +
              'token and checks its ACL (fetch on each topic read) before reading anything',
          },
        ]);
      }
    }

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.accessLogRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
      ...(props.logEncryptionKey ? { encryptionKey: props.logEncryptionKey } : {}),
    });
    if (props.customDomain) {
      this.domainName = new DomainName(this, 'Domain', {
        domainName: props.customDomain.domainName,
        certificate: props.customDomain.certificate,
      });
    }
    // Under the API with the id HttpApi gives its own default stage: the same logical id as
    // before this stage was declared here, so an update keeps the `$default` stage.
    this.stage = new HttpStage(this.api, 'DefaultStage', {
      httpApi: this.api,
      stageName: API_STAGE,
      autoDeploy: true,
      throttle: {
        rateLimit: props.throttleRateLimit ?? DEFAULT_THROTTLE.rateLimit,
        burstLimit: props.throttleBurstLimit ?? DEFAULT_THROTTLE.burstLimit,
      },
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
      ...(this.domainName ? { domainMapping: { domainName: this.domainName } } : {}),
    });
    this.url = props.customDomain
      ? `https://${props.customDomain.domainName}`
      : this.api.apiEndpoint;
  }

  /**
   * The ARN IAM checks for one request: `arn:<partition>:execute-api:<region>:<account>:
   * <apiId>/$default/<METHOD>/<path>`; `*` in method or path matches anything there.
   */
  arnForRoute(method: string, path: string): string {
    return this.api.arnForExecuteApi(method, path, API_STAGE);
  }
}
