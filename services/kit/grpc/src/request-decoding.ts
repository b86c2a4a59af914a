// Requests that cannot be decoded are the caller's fault: INVALID_ARGUMENT naming the message type, for unary and
// streaming methods alike. grpc-js answers a deserializer that throws with INTERNAL ("Error deserializing request")
// from deep inside the call, where no handler or error table can change it; so the served definitions' deserializers
// never throw (they return an UndecodableRequest instead), and one server interceptor turns that value into the
// status before any handler sees it.
import type { DescMessage, FileRegistry } from '@bufbuild/protobuf';
import {
  type ServerInterceptor,
  ServerInterceptingCall,
  type ServiceDefinition,
  status,
  type StatusObject,
} from '@grpc/grpc-js';
import { badRequestMetadata } from './rich-status';
import { checkWireFormat, WireFormatError } from './wire-check';

/** What a served method's deserializer returns for bytes that are not a valid request. */
export class UndecodableRequest {
  constructor(
    /** The request message's full name, or the method path when the descriptors are not known. */
    readonly typeName: string,
    /** What is wrong, with the field's path in front when there is one. */
    readonly reason: string,
    /** The field at fault and what is wrong with it, for google.rpc.BadRequest. */
    readonly violation?: { field: string; description: string },
  ) {}

  /** The status the caller gets. */
  status(): StatusObject {
    const details = `The request is not a valid ${this.typeName}: ${this.reason}`;
    const violations = this.violation ? [this.violation] : [];
    return {
      code: status.INVALID_ARGUMENT,
      details,
      metadata: badRequestMetadata(status.INVALID_ARGUMENT, details, violations),
    };
  }
}

/**
 * The definition with every method's request deserializer made strict and total: with the contract's descriptors
 * the bytes are first checked against the request type (see wire-check.ts), then decoded by the generated code; any
 * failure is an {@link UndecodableRequest}, never a throw.
 */
export function strictRequests(definition: ServiceDefinition, registry?: FileRegistry): ServiceDefinition {
  const strict: Record<string, ServiceDefinition[string]> = {};
  for (const [key, method] of Object.entries(definition)) {
    const desc = registry ? requestType(registry, method.path) : undefined;
    const typeName = desc?.typeName ?? `request of ${method.path}`;
    const decode = method.requestDeserialize;
    strict[key] = {
      ...method,
      requestDeserialize: (bytes: Buffer): unknown => {
        try {
          if (desc) checkWireFormat(desc, bytes);
          return decode(bytes);
        } catch (error) {
          if (!(error instanceof WireFormatError)) return new UndecodableRequest(typeName, describe(error));
          const { field, reason, message } = error;
          return new UndecodableRequest(typeName, message, field ? { field, description: reason } : undefined);
        }
      },
    };
  }
  return strict;
}

/** Ends a call whose request message did not decode with its INVALID_ARGUMENT, before the handler receives it. */
export const refuseUndecodableRequests: ServerInterceptor = (_method, call) => {
  const intercepting: ServerInterceptingCall = new ServerInterceptingCall(call, {
    start: (next) =>
      next({
        onReceiveMessage: (message: unknown, forward: (message: unknown) => void) => {
          // Not forwarded: the handler never sees it; ending the call cancels a streaming handler already running.
          if (message instanceof UndecodableRequest) intercepting.sendStatus(message.status());
          else forward(message);
        },
      }),
  });
  return intercepting;
};

/** The input type of "/package.Service/Method", if the registry has it. */
function requestType(registry: FileRegistry, path: string): DescMessage | undefined {
  const [, serviceName, methodName] = /^\/([^/]+)\/([^/]+)$/.exec(path) ?? [];
  const service = serviceName ? registry.getService(serviceName) : undefined;
  return service?.methods.find((m) => m.name === methodName)?.input;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
