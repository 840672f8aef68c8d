import { type GraphQLSchema, isListType, isNonNullType, isObjectType } from 'graphql';

/*
 * How the complexity limit (GRAPHQL_MAX_COMPLEXITY) counts: every field costs 1, and a list
 * multiplies the cost of its selection by the most items it can return. Pothos' default would
 * count every list as 10 items, whatever its size, so nesting lists of hundreds of rows passed
 * the limit; here each list states its real bound, and the schema refuses to build without one.
 */

type Complexity = { field: number; multiplier: number };

/** A number fixed in the schema, or one that each gateway configures (read from its context). */
type Bound<Ctx> = number | ((ctx: Ctx) => number);
const boundIn = <Ctx>(bound: Bound<Ctx>, ctx: Ctx) => (typeof bound === 'number' ? bound : bound(ctx));

/** A list sized by an argument (its `limit`, or its default), never counted above `max`. */
export function listOf<Args extends object, Ctx = unknown>(
  size: (args: Args) => number | null | undefined,
  fallback: Bound<Ctx>,
  max: Bound<Ctx>,
): (args: Args, ctx: Ctx) => Complexity {
  // Clamped to what validation accepts: a limit over it is refused for what it is, not as "too complex".
  return (args, ctx) => ({
    field: 1,
    multiplier: Math.min(Math.max(size(args) ?? boundIn(fallback, ctx), 0), boundIn(max, ctx)),
  });
}

/** A list whose size is fixed in code (e.g. at most 3 snippets). */
export const fixedList = (max: number): Complexity => ({ field: 1, multiplier: max });

/**
 * A list that is one page of its parent, which already counted the page size (a connection's
 * `edges` under `messages_page(first)`): counting it again would square the cost.
 */
export const countedByParent: Complexity = { field: 1, multiplier: 1 };

/**
 * Refuses a schema with a list field that does not say how many items it can return: without it,
 * the complexity limit would count it as Pothos' default of 10 and let a huge list through.
 */
export function assertListsBounded(schema: GraphQLSchema): GraphQLSchema {
  const unbounded: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const inner = isNonNullType(field.type) ? field.type.ofType : field.type;
      const options = field.extensions.pothosOptions as { complexity?: unknown } | undefined;
      if (isListType(inner) && options?.complexity === undefined) unbounded.push(`${type.name}.${field.name}`);
    }
  }
  if (unbounded.length > 0) {
    throw new Error(`List fields without a complexity bound (see src/graphql/complexity.ts): ${unbounded.join(', ')}`);
  }
  return schema;
}
