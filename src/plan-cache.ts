import { logger } from './logger';

/*
 * A query-plan cache for Prisma 6.19's client engine.
 *
 * The client engine turns every call into a JSON query, compiles it to a plan in its wasm query
 * compiler (about 0.4 ms for a chat with its messages: the largest single cost of a chat read)
 * and runs the plan in JavaScript. It keeps no cache; Prisma 7 does, by compiling queries with
 * their values lifted out as placeholders. This does the same from the outside:
 *
 *  - in a read's filters (`where`, at any depth of the selection), the value of each equality or
 *    comparison on an Int, Float or String column is replaced by a placeholder, so reads that differ
 *    only in those values share one JSON shape;
 *  - each shape is compiled once; the plan is kept (frozen: it is shared by concurrent calls);
 *  - each call runs the cached plan inside a `let` node that binds the placeholders to this call's
 *    values. The plan interpreter resolves placeholders from that scope, as it resolves the values
 *    it binds itself between the steps of a plan.
 *
 * Anything else (writes, batches, null, dates, lists, `take`/`skip`, which the compiler will not
 * take as placeholders) goes to the compiler as before. A shape the compiler refuses with
 * placeholders is remembered and compiled with its values each time. The hook uses two internals
 * of the generated client (`_engineConfig.compilerWasm`, `_runtimeDataModel`); if a Prisma upgrade
 * removes them, the cache switches itself off and says so in the log.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };
type Field = { name: string; kind: string; type: string };
type DataModel = { models: Record<string, { fields: Field[] }> };
type Compiler = { compile(request: string): unknown };
type CompilerClass = new (...args: never[]) => Compiler;
type Runtime = { QueryCompiler: CompilerClass };
type ClientInternals = {
  _engineConfig?: { compilerWasm?: { getRuntime?: () => Promise<Runtime> } };
  _runtimeDataModel?: DataModel;
};

const READS = new Set(['findUnique', 'findUniqueOrThrow', 'findFirst', 'findFirstOrThrow', 'findMany', 'aggregate']);
const LIFTED_TYPES = new Set(['Int', 'Float', 'String']);
const COMPARISONS = new Set(['equals', 'not', 'gt', 'gte', 'lt', 'lte']);
const RELATION_FILTERS = new Set(['is', 'isNot', 'some', 'every', 'none']);
const LOGICAL = new Set(['AND', 'OR', 'NOT']);
/** Distinct query shapes kept; a shape is a few kilobytes of plan. */
const MAX_SHAPES = 500;
/** Marks a shape the compiler would not take with placeholders. */
const UNCACHEABLE = Symbol('uncacheable');

export const planCacheStats = { hits: 0, misses: 0, bypassed: 0 };

/** Installs the cache on a Prisma client before its first query. */
export function cacheQueryPlans(client: object): void {
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
  const plans = new Map<string, unknown>();
  return class CachingQueryCompiler extends Base {
    override compile(request: string): unknown {
      const query = JSON.parse(request) as JsonObject;
      if (typeof query.action !== 'string' || !READS.has(query.action) || typeof query.modelName !== 'string') {
        planCacheStats.bypassed++;
        return super.compile(request);
      }
      const values: Json[] = [];
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
        if (plans.size >= MAX_SHAPES) plans.delete(plans.keys().next().value as string);
      } else {
        planCacheStats.hits++;
        plans.delete(shape); // re-inserted below: the Map's order is the eviction order
      }
      plans.set(shape, plan);
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

/** Lifts the filter values of a query (`{ arguments, selection }`) on `model`, and of its relations. */
function liftSelection(query: Json | undefined, model: string, fields: FieldIndex, values: Json[]): void {
  if (!isObject(query)) return;
  const { arguments: args, selection } = query;
  if (isObject(args) && args.where !== undefined) args.where = liftFilter(args.where, model, fields, values);
  if (!isObject(selection)) return;
  const modelFields = fields.get(model);
  for (const [name, nested] of Object.entries(selection)) {
    const field = modelFields?.get(name);
    if (field?.kind === 'object') liftSelection(nested, field.type, fields, values);
  }
}

/** A `where` object on `model`, with its liftable values replaced by placeholders. */
function liftFilter(filter: Json | undefined, model: string, fields: FieldIndex, values: Json[]): Json {
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
    } else if (field?.kind === 'scalar' && LIFTED_TYPES.has(field.type)) {
      out[key] = liftScalarFilter(value, values);
    } else {
      out[key] = value;
    }
  }
  return out;
}

function liftRelationFilter(filter: Json, model: string, fields: FieldIndex, values: Json[]): Json {
  if (!isObject(filter)) return filter;
  const keys = Object.keys(filter);
  if (keys.length > 0 && keys.every((key) => RELATION_FILTERS.has(key))) {
    const out: JsonObject = {};
    for (const key of keys) out[key] = liftFilter(filter[key], model, fields, values);
    return out;
  }
  return liftFilter(filter, model, fields, values);
}

/** `5`, `"abc"` or `{ equals: 5, lt: 9, not: 3, mode: "insensitive" }`: only the comparisons' values. */
function liftScalarFilter(filter: Json, values: Json[]): Json {
  if (isLiftable(filter)) return lift(filter, values);
  if (!isObject(filter)) return filter;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(filter)) {
    out[key] = COMPARISONS.has(key) && isLiftable(value) ? lift(value, values) : value;
  }
  return out;
}

function lift(value: Json, values: Json[]): Json {
  values.push(value);
  return { $type: 'Param', value: placeholder(values.length - 1) };
}

function isLiftable(value: Json): value is number | string {
  return (typeof value === 'number' && Number.isFinite(value)) || typeof value === 'string';
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
