import type { RenderedConnectorCall } from '@keel/workflow-engine';
import type { Connector, ConnectorCallContext, ConnectorResult } from './connector';

/** Dispatches a rendered call to the connector of its type. */
export class ConnectorRegistry {
  private readonly byType: ReadonlyMap<string, Connector>;

  constructor(connectors: readonly Connector[]) {
    this.byType = new Map(connectors.map((connector) => [connector.type, connector]));
  }

  execute(call: RenderedConnectorCall, context: ConnectorCallContext): Promise<ConnectorResult> {
    const connector = this.byType.get(call.type);
    if (!connector)
      return Promise.resolve({ outcome: 'failed', error: `no '${call.type}' connector`, retryable: false });
    return connector.execute(call, context);
  }
}
