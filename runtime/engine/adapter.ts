// Connects the generated typed adapters (generated/index.ts) to the engine:
// `createAdapters(engineCaller(engine, connectors, credentialsFor)).twilio.send_sms(input)`.
import type { Connector } from '../manifest/connector.ts';
import { EngineError, failure } from '../http/errors.ts';
import type { Engine, RunOptions } from './engine.ts';

export type CallOptionsResolver = (connector: string) => Omit<RunOptions, 'input'>;

export function engineCaller(engine: Engine, connectors: Map<string, Connector>, optionsFor: CallOptionsResolver) {
  return async (connectorName: string, capability: string, input: unknown): Promise<any> => {
    const connector = connectors.get(connectorName);
    if (!connector) throw new EngineError(failure('unsupported', `unknown connector "${connectorName}"`, { retryable: false }));
    const result = await engine.run(connector, capability, { ...optionsFor(connectorName), input: input as Record<string, unknown> });
    if (!result.ok) throw new EngineError(result.error);
    return result.output;
  };
}
