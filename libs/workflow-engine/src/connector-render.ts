import { type ConnectorCall } from './definition.schema';
import { type RenderedConnectorCall } from './engine-command';
import { type ExpressionScope, ExpressionEvaluationError, renderTemplate, renderText } from './expression';
import { type JsonValue } from './json-value';

/** Renders every template of a connector call against the instance context. */
export async function renderCall(
  call: ConnectorCall,
  scope: ExpressionScope,
): Promise<RenderedConnectorCall> {
  switch (call.type) {
    case 'http': {
      const path = await renderText(call.path, scope);
      if (!path.startsWith('/')) {
        throw new ExpressionEvaluationError(call.path, `rendered path '${path}' does not start with '/'`);
      }
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(call.headers ?? {}))
        headers[name] = await renderText(value, scope);
      const body = call.body === undefined ? undefined : await renderTemplate(call.body, scope);
      return {
        type: 'http',
        service: call.service,
        method: call.method,
        path,
        ...(call.headers === undefined ? {} : { headers }),
        ...(body === undefined ? {} : { body }),
      };
    }
    case 'kafka': {
      const key = call.key === undefined ? undefined : await renderText(call.key, scope);
      const value = await renderTemplate(call.value, scope);
      if (value === undefined) {
        throw new ExpressionEvaluationError(
          JSON.stringify(call.value),
          'the Kafka record value rendered to nothing',
        );
      }
      return { type: 'kafka', topic: call.topic, ...(key === undefined ? {} : { key }), value };
    }
    case 'postgres': {
      const params: JsonValue[] = [];
      for (const param of call.params) params.push((await renderTemplate(param, scope)) ?? null);
      return { type: 'postgres', statement: call.statement, params };
    }
  }
}
