import fs from 'node:fs';
import path from 'node:path';
import { isSpecifiedScalarType, printSchema } from 'graphql';
import { schema } from '../../src/graphql/schema';

describe('schema.graphql', () => {
  it('is what the schema prints (run `npm run schema:print` after changing the schema)', () => {
    const committed = fs.readFileSync(path.join(__dirname, '..', '..', 'schema.graphql'), 'utf8');
    expect(committed).toBe(`${printSchema(schema)}\n`);
  });
});

describe('descriptions', () => {
  it('every type, field and argument has one, so GraphiQL and the OpenAPI document explain themselves', () => {
    const missing: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__') || isSpecifiedScalarType(type)) continue;
      if (!type.description) missing.push(type.name);
      if (!('getFields' in type)) continue;
      for (const field of Object.values(type.getFields())) {
        if (!field.description) missing.push(`${type.name}.${field.name}`);
        for (const arg of 'args' in field ? field.args : []) {
          if (!arg.description) missing.push(`${type.name}.${field.name}(${arg.name})`);
        }
      }
    }
    expect(missing).toEqual([]);
  });
});
