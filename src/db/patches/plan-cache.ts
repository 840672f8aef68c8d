import type { Logger } from '../../http/logging';
import { Lru } from '../../lib/lru';

/*
 * A query-plan cache for Prisma 6.19's client engine.
 *
 * The client engine turns every call into a JSON query, compiles it to a plan in its wasm query
 * compiler (about 0.4 ms for a chat with its messages: the largest single cost of a chat read)
 * and runs the plan in JavaScript. It keeps no cache; Prisma 7 does, by compiling queries with
 * their values lifted out as placeholders. This does the same from the outside:
 *
 *  - in a query's filters (`where`, at any depth of the selection) and in the data it writes, the
 *    value of each equality, comparison or assignment on an Int, Float, String, Boolean or DateTime
 *    column is replaced by a placeholder, so calls that differ only in those values share one shape;
 *  - each shape is compiled once; the plan is kept (frozen: it is shared by concurrent calls);
 *  - each call runs the cached plan inside a `let` node that binds the placeholders to this call's
 *    values. The plan interpreter resolves placeholders from that scope, as it resolves the values
 *    it binds itself between the steps of a plan.
 *
 * Anything else (batches, raw SQL, null, lists, relation writes, case-insensitive comparisons,
 * `take`/`skip`, values the compiler would convert or refuse) goes to the compiler as before. A
 * shape the compiler refuses with placeholders is remembered and compiled with its values each
 * time. The hook uses two internals of the generated client (`_engineConfig.compilerWasm`,
 * `_runtimeDataModel`) and the plan interpreter's `let` and `value` nodes: src/db/patches/index.ts
 * applies it only on the @prisma/client version it was written for, and if the two fields are
 * missing anyway it switches itself off and says so in the log (test/db/patches.test.ts checks all
 * of these).
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };
/** A value bound to a placeholder: a JSON value, or an Int as a BigInt. */
type Bound = Json | bigint;
type Field = { name: string; kind: string; type: string };
type DataModel = { models: Record<string, { fields: Field[] }> };
type Compiler = { compile(request: string): unknown };
type CompilerClass = new (...args: never[]) => Compiler;
type Runtime = { QueryCompiler: CompilerClass };
type ClientInternals = {
  _engineConfig?: { compilerWasm?: { getRuntime?: () => Promise<Runtime> } };
  _runtimeDataModel?: DataModel;
};

const ACTIONS = new Set([
  ...['findUnique', 'findUniqueOrThrow', 'findFirst', 'findFirstOrThrow', 'findMany', 'aggregate', 'groupBy'],
  ...['createOne', 'updateOne', 'updateMany', 'deleteOne', 'deleteMany'],
]);
const COMPARISONS = new Set(['equals', 'not', 'gt', 'gte', 'lt', 'lte']);
const ASSIGNMENTS = new Set(['set', 'increment', 'decrement', 'multiply', 'divide']);
const RELATION_FILTERS = new Set(['is', 'isNot', 'some', 'every', 'none']);
const LOGICAL = new Set(['AND', 'OR', 'NOT']);
/** Distinct query shapes kept (the least recently used go first); a shape is a few kilobytes of plan. */
const MAX_SHAPES = 500;
/** Marks a shape the compiler would not take with placeholders. */
const UNCACHEABLE = Symbol('uncacheable');

/** Counts for the whole process (the cache is process-wide, see patchClient), for tests. */
export const planCacheStats = { hits: 0, misses: 0 };

/** Installs the cache on a Prisma client before its first query. */
export function cacheQueryPlans(client: object, logger: Pick<Logger, 'warn'>): void {
  const internals = client as ClientInternals;
  const wasm = internals._engineConfig?.compilerWasm;
  const dataModel = internals._runtimeDataModel;
  const getRuntime = wasm?.getRuntime;
  if (!wasm || !getRuntime || !dataModel?.models) {
    logger.warn('Prisma client internals changed: query plans are not cached');
    return;
  }
  const fields = fieldIndex(dataModel);
  wasm.getRuntime = async () => {
    const runtime = await getRuntime();
    return { ...runtime, QueryCompiler: withPlanCache(runtime.QueryCompiler, fields) };
  };
}

type FieldIndex = Map<string, Map<string, Field>>;

function fieldIndex(dataModel: DataModel): FieldIndex {
  const index: FieldIndex = new Map();
  for (const [model, { fields }] of Object.entries(dataModel.models)) {
    index.set(model, new Map(fields.map((field) => [field.name, field])));
  }
  return index;
}

function withPlanCache(Base: CompilerClass, fields: FieldIndex): CompilerClass {
  const plans = new Lru<string, unknown>(MAX_SHAPES);
  return class CachingQueryCompiler extends Base {
    override compile(request: string): unknown {
      const query = JSON.parse(request) as JsonObject;
      if (typeof query.action !== 'string' || !ACTIONS.has(query.action) || typeof query.modelName !== 'string') {
        return super.compile(request);
      }
      const values: Bound[] = [];
      liftSelection(query.query, query.modelName, fields, values);
      const shape = JSON.stringify(query);

      let plan = plans.get(shape);
      if (plan === undefined) {
        planCacheStats.misses++;
        try {
          plan = deepFreeze(super.compile(shape));
        } catch {
          plan = UNCACHEABLE;
        }
        plans.set(shape, plan);
      } else {
        planCacheStats.hits++;
      }
      if (plan === UNCACHEABLE) return super.compile(request);
      if (values.length === 0) return plan;
      return {
        type: 'let',
        args: {
          bindings: values.map((value, i) => ({ name: placeholder(i), expr: { type: 'value', args: value } })),
          expr: plan,
        },
      };
    }
  };
}

function placeholder(index: number): string {
  return `lifted$${index}`;
}

/** Lifts the values of a query (`{ arguments, selection }`) on `model`, and of its relations' filters. */
function liftSelection(query: Json | undefined, model: string, fields: FieldIndex, values: Bound[]): void {
  if (!isObject(query)) return;
  const { arguments: args, selection } = query;
  if (isObject(args)) {
    if (args.where !== undefined) args.where = liftFilter(args.where, model, fields, values);
    if (isObject(args.data)) args.data = liftData(args.data, model, fields, values);
  }
  if (!isObject(selection)) return;
  const modelFields = fields.get(model);
  for (const [name, nested] of Object.entries(selection)) {
    const field = modelFields?.get(name);
    if (field?.kind === 'object') liftSelection(nested, field.type, fields, values);
  }
}

/** A `where` object on `model`, with its liftable values replaced by placeholders. */
function liftFilter(filter: Json | undefined, model: string, fields: FieldIndex, values: Bound[]): Json {
  if (!isObject(filter)) return filter ?? null;
  const modelFields = fields.get(model);
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(filter)) {
    const field = modelFields?.get(key);
    if (LOGICAL.has(key)) {
      out[key] = Array.isArray(value)
        ? value.map((item) => liftFilter(item, model, fields, values))
        : liftFilter(value, model, fields, values);
    } else if (field?.kind === 'object') {
      out[key] = liftRelationFilter(value, field.type, fields, values);
    } else if (field?.kind === 'scalar') {
      out[key] = liftOperands(value, field.type, COMPARISONS, values);
    } else {
      out[key] = value;
    }
  }
  return out;
}

function liftRelationFilter(filter: Json, model: string, fields: FieldIndex, values: Bound[]): Json {
  if (!isObject(filter)) return filter;
  const keys = Object.keys(filter);
  if (keys.length > 0 && keys.every((key) => RELATION_FILTERS.has(key))) {
    const out: JsonObject = {};
    for (const key of keys) out[key] = liftFilter(filter[key], model, fields, values);
    return out;
  }
  return liftFilter(filter, model, fields, values);
}

/** The columns a create or update writes: `{ content: "hi", count: { increment: 1 } }`. */
function liftData(data: JsonObject, model: string, fields: FieldIndex, values: Bound[]): JsonObject {
  const modelFields = fields.get(model);
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(data)) {
    const field = modelFields?.get(key);
    out[key] = field?.kind === 'scalar' ? liftOperands(value, field.type, ASSIGNMENTS, values) : value;
  }
  return out;
}

/**
 * A column's value, `5`, or its operations, `{ equals: 5, lt: 9, mode: "insensitive" }`: the value,
 * and the values of the given operations, are lifted when they are of the column's type.
 */
function liftOperands(operand: Json, type: string, operations: Set<string>, values: Bound[]): Json {
  const direct = liftable(operand, type);
  if (direct !== undefined) return lift(direct, values);
  if (!isObject(operand) || operand.$type !== undefined) return operand;
  // Case-insensitive comparisons compile to ILIKE on PostgreSQL with the value written into the SQL.
  if (operand.mode !== undefined) return operand;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(operand)) {
    const lifted = operations.has(key) ? liftable(value, type) : undefined;
    out[key] = lifted === undefined ? value : lift(lifted, values);
  }
  return out;
}

/**
 * The value to bind for a JSON-protocol value of a column of `type`, if it can be a placeholder
 * and bind exactly as the compiler would have written it. Anything the compiler would convert or
 * refuse (a fraction or an out-of-range number for an Int, a year outside 0000-9999) stays in the
 * query, so it still gets the compiler's treatment.
 */
function liftable(value: Json | undefined, type: string): Bound | undefined {
  switch (type) {
    case 'Int':
      // As a BigInt it binds as an INTEGER in SQLite, like the compiler's own Int arguments; a JS
      // number would bind as REAL (and `divide` would stop being integer division).
      return typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : undefined;
    case 'Float':
      return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
    case 'String':
      return typeof value === 'string' ? value : undefined;
    case 'Boolean':
      return typeof value === 'boolean' ? value : undefined;
    case 'DateTime':
      // Dates travel as { $type: "DateTime", value: ISO string }; plans carry the ISO string.
      return isObject(value) &&
        value.$type === 'DateTime' &&
        typeof value.value === 'string' &&
        /^\d{4}-/.test(value.value)
        ? value.value
        : undefined;
    default:
      return undefined;
  }
}

function lift(value: Bound, values: Bound[]): Json {
  values.push(value);
  return { $type: 'Param', value: placeholder(values.length - 1) };
}

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const nested of Object.values(value)) deepFreeze(nested);
  }
  return value;
}
