import SchemaBuilder, { BasePlugin, type PothosOutputFieldConfig, type SchemaTypes } from '@pothos/core';
import { defaultFieldResolver, type GraphQLFieldResolver } from 'graphql';
import { DEADLINE } from './deadline';

/*
 * Checks the request deadline (graphql/deadline.ts) before every resolver, as the executor checks
 * it before every field: an operation compiled by graphql-jit (graphql/compiled-execution.ts) is
 * never checked by the executor, and without this would go on starting resolvers (and SQL
 * statements) after its deadline. Fields without a resolver of their own read a property of their
 * parent and start nothing, so they are left as they are (graphql-jit inlines them).
 */

declare global {
  export namespace PothosSchemaTypes {
    export interface Plugins<Types extends SchemaTypes> {
      deadline: DeadlinePlugin<Types>;
    }
  }
}

type WithDeadline = { [DEADLINE]?: AbortSignal };

export class DeadlinePlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override wrapResolve(
    resolver: GraphQLFieldResolver<unknown, Types['Context'], object>,
    _fieldConfig: PothosOutputFieldConfig<Types>,
  ): GraphQLFieldResolver<unknown, Types['Context'], object> {
    if (resolver === defaultFieldResolver) return resolver;
    return (parent, args, context, info) => {
      (context as WithDeadline)[DEADLINE]?.throwIfAborted();
      return resolver(parent, args, context, info);
    };
  }
}

const pluginName = 'deadline';
SchemaBuilder.registerPlugin(pluginName, DeadlinePlugin);

/** The plugin's name, for the builder's `plugins` (as Pothos' own plugins export theirs). */
export default pluginName;
