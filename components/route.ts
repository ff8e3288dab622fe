/**
 * A route: an EventBridge pipe that copies the records of one segment's stream that match the route's
 * filter into another segment's stream. Routes are the only way data crosses layers.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { RouteConfig } from "../model/config";
import { routeNames } from "../model/naming";
import { routeAssumeRolePolicy, routeRolePolicy } from "../model/policies";
import { ROUTE_STARTING_POSITION, ROUTE_TARGET, routeFilterCriteria } from "./route-filter";
import { lakeTags, Tags } from "./tags";

/** The end of a route: a segment's stream and the key of its layer. */
export interface RouteEndpoint {
  streamArn: pulumi.Input<string>;
  kmsKeyArn: pulumi.Input<string>;
}

export interface DataRouteArgs {
  /** The route's entry of the parsed topology (`parseLakeConfig(...).routes[i]`). */
  route: RouteConfig;
  /** The lake's name: the prefix of every physical name. */
  lakeName: string;
  /** The segment records are read from (`route.from`). */
  from: RouteEndpoint;
  /** The segment matching records are written to (`route.to`). */
  to: RouteEndpoint;
  /** The AWS account the lake is deployed to. */
  accountId: pulumi.Input<string>;
  /** The AWS region the lake is deployed to. */
  region: pulumi.Input<string>;
  /** Extra tags for every taggable resource; the lake's own `datalake:*` tags are always added. @default {} */
  tags?: Tags;
}

export class DataRoute extends pulumi.ComponentResource {
  readonly pipeName: pulumi.Output<string>;
  readonly pipeArn: pulumi.Output<string>;

  constructor(name: string, args: DataRouteArgs, opts?: pulumi.ComponentResourceOptions) {
    super("datalake:lake:Route", name, {}, opts);
    const route = args.route;
    const names = routeNames(args.lakeName, route.name);
    const tags = lakeTags({ lake: args.lakeName, route: route.name }, args.tags);
    let filterCriteria;
    try {
      filterCriteria = routeFilterCriteria(route.filter);
    } catch (err) {
      throw new pulumi.ResourceError(`route ${route.name} (${route.from} -> ${route.to}): ${(err as Error).message}`, this);
    }

    const role = new aws.iam.Role(
      `${name}-role`,
      {
        name: names.roleName,
        description: `Route ${route.from} -> ${route.to}: reads the source stream, writes the target stream`,
        assumeRolePolicy: pulumi.output(args.accountId).apply((id) => JSON.stringify(routeAssumeRolePolicy(id))),
        tags,
      },
      { parent: this },
    );
    const rolePolicy = new aws.iam.RolePolicy(
      `${name}-role-policy`,
      {
        role: role.id,
        name: "route",
        policy: pulumi
          .all([args.from.streamArn, args.from.kmsKeyArn, args.to.streamArn, args.to.kmsKeyArn, args.region])
          .apply(([sourceStreamArn, sourceKeyArn, targetStreamArn, targetKeyArn, region]) =>
            JSON.stringify(routeRolePolicy({ sourceStreamArn, sourceKeyArn, targetStreamArn, targetKeyArn, region })),
          ),
      },
      { parent: this },
    );
    const pipe = new aws.pipes.Pipe(
      `${name}-pipe`,
      {
        name: names.pipeName,
        description: `Route ${route.from} -> ${route.to}`,
        roleArn: role.arn,
        source: args.from.streamArn,
        sourceParameters: {
          kinesisStreamParameters: { startingPosition: ROUTE_STARTING_POSITION },
          filterCriteria,
        },
        target: args.to.streamArn,
        targetParameters: {
          kinesisStreamParameters: { partitionKey: ROUTE_TARGET.partitionKey },
          inputTemplate: ROUTE_TARGET.inputTemplate,
        },
        tags,
      },
      // Pipes validates access to source and target on creation: wait until the role may do both.
      { parent: this, dependsOn: [rolePolicy] },
    );

    this.pipeName = pipe.name;
    this.pipeArn = pipe.arn;
    this.registerOutputs({ pipeName: this.pipeName, pipeArn: this.pipeArn });
  }
}
