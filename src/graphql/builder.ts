import SchemaBuilder from '@pothos/core';
import ComplexityPlugin from '@pothos/plugin-complexity';
import PrismaPlugin from '@pothos/plugin-prisma';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import ValidationPlugin from '@pothos/plugin-validation';
import type PrismaTypes from '../generated/pothos-types';
import { getDatamodel } from '../generated/pothos-types';
import type { Context } from './context';
import DeadlinePlugin from './deadline-plugin';
import { AppError, badInput, forbidden } from './errors';

export type BuilderTypes = {
  Context: Context;
  PrismaTypes: PrismaTypes;
  DefaultFieldNullability: false;
  Scalars: { DateTime: { Input: Date; Output: Date } };
  AuthScopes: {
    /** Any caller when authentication is off; a verified one when it is on. */
    member: boolean;
    admin: boolean;
    /** Debug routes and user provisioning: anyone when authentication is off, else admins. */
    operator: boolean;
  };
};

export const builder = new SchemaBuilder<BuilderTypes>({
  // Scope auth and complexity run inside execution, so they hold for REST's operations as well,
  // which skip GraphQL's parse and validate steps. The deadline comes first, so it is checked
  // before any other plugin's work.
  plugins: [DeadlinePlugin, ScopeAuthPlugin, ComplexityPlugin, ValidationPlugin, PrismaPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: (ctx) => ({
      member: ctx.authenticated,
      admin: ctx.isAdmin,
      operator: !ctx.auth.enabled || ctx.isAdmin,
    }),
    unauthorizedError: (_parent, ctx) =>
      ctx.authenticated
        ? forbidden('This operation needs an admin')
        : new AppError('UNAUTHENTICATED', ctx.failure ?? 'Not authenticated'),
  },
  complexity: {
    // Every list field states its own multiplier (src/graphql/complexity.ts); the schema refuses one without.
    defaultComplexity: 1,
    // Each gateway's own limits (GRAPHQL_MAX_DEPTH, GRAPHQL_MAX_COMPLEXITY), from the context.
    limit: (ctx) => ({ depth: ctx.config.graphqlMaxDepth, complexity: ctx.config.graphqlMaxComplexity }),
    complexityError: (kind, result) => {
      const key = kind.toLowerCase() as 'depth' | 'breadth' | 'complexity';
      const max = result[`max${kind}` as 'maxDepth' | 'maxBreadth' | 'maxComplexity'];
      const hint =
        kind === 'Complexity'
          ? ' (each field counts 1, times the limit of every list around it: ask for fewer items)'
          : '';
      return badInput(
        `Query too ${kind === 'Depth' ? 'deep' : 'complex'}: ${key} ${result[key]} exceeds ${max}${hint}`,
      );
    },
  },
  prisma: {
    // The gateway's own client: the schema is one for all gateways, the database is each one's.
    client: (ctx) => ctx.db,
    dmmf: getDatamodel(),
    exposeDescriptions: false,
    filterConnectionTotalCount: true,
    onUnusedQuery: null,
  },
  validation: {
    validationError: (result) =>
      badInput(
        result.issues
          .map((issue) => {
            const path = issue.path?.map((p) => (typeof p === 'object' ? p.key : p)).join('.');
            return path ? `${path}: ${issue.message}` : issue.message;
          })
          .join('; '),
      ),
  },
});

builder.queryType({ description: 'Reads.' });
builder.mutationType({ description: 'Writes.' });
builder.subscriptionType({ description: 'Live updates, over Server-Sent Events at /graphql.' });
