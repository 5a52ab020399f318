/** `rotor schema`: the JSON Schema of rotor.yaml, for editors (yaml-language-server) and CI linting. */
import { z } from 'zod';
import { configSchema, secretCommonSchema } from '../../config/schema.js';
import { rotatorRegistry } from '../../rotators/registry.js';
import { parse } from '../args.js';

type JsonSchema = { properties?: Record<string, unknown>; required?: string[]; [k: string]: unknown };

export async function run(args: string[]): Promise<number> {
  if (!parse(args, {}, 'rotor schema > rotor.schema.json')) return 0;
  const root = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const common = z.toJSONSchema(secretCommonSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  // One branch per type: the common fields plus that type's own, nothing else.
  const branches = Object.values(rotatorRegistry).map((def) => {
    const own = z.toJSONSchema(def.schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
    return {
      type: 'object',
      description: def.summary,
      properties: { ...common.properties, ...own.properties, type: { const: def.type } },
      required: [...new Set([...(common.required ?? []), ...(own.required ?? [])])],
      additionalProperties: false,
    };
  });
  const secrets = root.properties?.secrets as JsonSchema | undefined;
  if (secrets) secrets.items = { oneOf: branches };
  root.title = 'rotor.yaml';
  process.stdout.write(`${JSON.stringify(root, null, 2)}\n`);
  return 0;
}
