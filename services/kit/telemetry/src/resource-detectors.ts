import { createRequire } from 'node:module';
import { type NodeSDKConfiguration } from '@opentelemetry/sdk-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';

type ResourceDetector = NodeSDKConfiguration['resourceDetectors'][number];

/** What the resource says about the service itself. */
export interface ServiceIdentity {
  serviceName: string;
  serviceVersion?: string;
  deploymentEnvironment?: string;
}

interface StandardDetectors {
  envDetector: ResourceDetector;
  hostDetector: ResourceDetector;
  osDetector: ResourceDetector;
  processDetector: ResourceDetector;
}

/**
 * The resource detectors, fixed in code: env, host, os, process (same as OTEL_NODE_RESOURCE_DETECTORS=env,host,os,process).
 * Never cloud detectors: they probe metadata addresses (169.254.169.254 and friends) that are off this machine.
 * The service's own attributes come first so that OTEL_RESOURCE_ATTRIBUTES (the env detector, last) can add
 * to or correct them per deployment, e.g. `k8s.pod.name` from the downward API.
 */
export function resourceDetectors(identity: ServiceIdentity): ResourceDetector[] {
  const { envDetector, hostDetector, osDetector, processDetector } = sdkResources();
  return [serviceDetector(identity), hostDetector, osDetector, processDetector, envDetector];
}

// The detectors are taken from the copy of @opentelemetry/resources that sdk-node itself loads, so they always
// match the SDK's major version whatever npm hoisted (today sdk-node keeps its own nested copy).
function sdkResources(): StandardDetectors {
  const requireFromSdk = createRequire(require.resolve('@opentelemetry/sdk-node'));
  return requireFromSdk('@opentelemetry/resources') as StandardDetectors;
}

// A detector rather than a Resource object: detectors return plain attributes, so no Resource instance from
// one copy of the library is ever merged into another's.
function serviceDetector(identity: ServiceIdentity): ResourceDetector {
  const attributes: Record<string, string> = {
    [ATTR_SERVICE_NAME]: identity.serviceName,
    // Incubating semantic conventions, spelled out rather than imported from the unstable entry point.
    'service.namespace': 'o2o',
  };
  if (identity.serviceVersion) attributes[ATTR_SERVICE_VERSION] = identity.serviceVersion;
  if (identity.deploymentEnvironment) attributes['deployment.environment.name'] = identity.deploymentEnvironment;
  return { detect: () => ({ attributes }) };
}
