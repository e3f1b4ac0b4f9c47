import { Construct } from 'constructs';
import { CanaryWeights, canaryWeights } from '../../model/canary';
import { LABELS, PART_OF } from '../../model/constants';
import {
  DestinationRule,
  Gateway,
  VirtualService,
  VirtualServiceSpecHttp,
} from '../imports/networking.istio.io';
import {
  isDnsLabel,
  isDnsSubdomain,
  isIntegerInRange,
  isNonEmptyString,
  validate,
} from '../../model/validators';

/** Send requests carrying this header to the canary, whatever the weights. */
export interface CanaryHeaderRoute {
  readonly name: string;
  /** Exact value to match. */
  readonly value: string;
}

export interface CanaryGatewayOptions {
  /** External hosts the gateway accepts, e.g. `shop.example.com`. */
  readonly hosts: readonly string[];
  /** @default 80 */
  readonly port?: number;
  /** Ingress gateway pods that serve it. @default { istio: "ingressgateway" } */
  readonly selector?: Readonly<Record<string, string>>;
}

export interface IstioCanaryProps {
  /** Kubernetes Service the traffic goes to (short name or FQDN). */
  readonly host: string;
  /** Namespace of the routing objects. @default the chart's namespace */
  readonly namespace?: string;
  /** Percent of traffic to the canary, 0 to 100; stable gets the rest. @default 0 */
  readonly weight?: number;
  /** Service port to route to. @default Istio's choice when the Service has one port */
  readonly port?: number;
  /** Pod label that tells stable from canary; its values are `stable` and `canary`. @default "version" */
  readonly versionLabel?: string;
  /** @default none */
  readonly header?: CanaryHeaderRoute;
  /** Expose the service through an Istio ingress gateway. @default none: mesh traffic only */
  readonly gateway?: CanaryGatewayOptions;
  /** Name of the routing objects. @default the host's first label */
  readonly name?: string;
}

/** Subset names shared with the charts' routing templates. */
export const CANARY_SUBSETS = { stable: 'stable', canary: 'canary' } as const;

/** The `http` routes of a canary VirtualService; the charts render the same layout. */
export function canaryHttpRoutes(
  host: string,
  weights: CanaryWeights,
  options: { port?: number; header?: CanaryHeaderRoute } = {},
): VirtualServiceSpecHttp[] {
  const destination = (subset: string) => ({
    host,
    subset,
    port: options.port === undefined ? undefined : { number: options.port },
  });
  const routes: VirtualServiceSpecHttp[] = [];
  if (options.header) {
    routes.push({
      name: 'canary-header',
      match: [{ headers: { [options.header.name]: { exact: options.header.value } } }],
      route: [{ destination: destination(CANARY_SUBSETS.canary) }],
    });
  }
  routes.push({
    name: 'weighted',
    route: [
      { destination: destination(CANARY_SUBSETS.stable), weight: weights.stable },
      { destination: destination(CANARY_SUBSETS.canary), weight: weights.canary },
    ],
  });
  return routes;
}

/**
 * Canary routing for a service described in cdk8s: a DestinationRule with `stable` and `canary`
 * subsets, a VirtualService splitting traffic by weight (and optionally by header), and a Gateway
 * when asked for. The two platform services get the same routing from their charts.
 */
export class IstioCanary extends Construct {
  public readonly name: string;
  public readonly weights: CanaryWeights;
  public readonly virtualService: VirtualService;
  public readonly destinationRule: DestinationRule;
  public readonly gateway?: Gateway;

  constructor(scope: Construct, id: string, props: IstioCanaryProps) {
    super(scope, id);
    const host = validate('host', props.host, isDnsSubdomain);
    this.name = validate('name', props.name ?? host.split('.')[0], isDnsLabel);
    this.weights = canaryWeights(props.weight ?? 0, 'weight');
    if (props.namespace !== undefined) validate('namespace', props.namespace, isDnsLabel);
    if (props.port !== undefined)
      validate('port', props.port, isIntegerInRange(1, 65535, 'use the Service port'));
    const versionLabel = validate('versionLabel', props.versionLabel ?? 'version', isNonEmptyString);
    if (props.header) {
      validate('header.name', props.header.name, isNonEmptyString);
      validate('header.value', props.header.value, isNonEmptyString);
    }
    const metadata = {
      name: this.name,
      namespace: props.namespace,
      labels: { [LABELS.partOf]: PART_OF, [LABELS.name]: this.name },
    };

    this.destinationRule = new DestinationRule(this, 'DestinationRule', {
      metadata,
      spec: {
        host,
        subsets: Object.values(CANARY_SUBSETS).map((subset) => ({
          name: subset,
          labels: { [versionLabel]: subset },
        })),
      },
    });

    const gateways: string[] = [];
    if (props.gateway) {
      const hosts = props.gateway.hosts;
      if (hosts.length === 0) validate('gateway.hosts', '', isNonEmptyString);
      hosts.forEach((h, i) => validate(`gateway.hosts[${i}]`, h, isDnsSubdomain));
      const port = validate(
        'gateway.port',
        props.gateway.port ?? 80,
        isIntegerInRange(1, 65535, 'use 80 for HTTP'),
      );
      this.gateway = new Gateway(this, 'Gateway', {
        metadata,
        spec: {
          selector: { ...(props.gateway.selector ?? { istio: 'ingressgateway' }) },
          servers: [{ port: { number: port, name: 'http', protocol: 'HTTP' }, hosts: [...hosts] }],
        },
      });
      gateways.push(this.name, 'mesh');
    }

    this.virtualService = new VirtualService(this, 'Resource', {
      metadata,
      spec: {
        hosts: [host, ...(props.gateway?.hosts ?? [])],
        gateways: gateways.length ? gateways : undefined,
        http: canaryHttpRoutes(host, this.weights, { port: props.port, header: props.header }),
      },
    });
  }
}
