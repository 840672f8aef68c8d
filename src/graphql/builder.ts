import SchemaBuilder from '@pothos/core';
import ComplexityPlugin from '@pothos/plugin-complexity';
import PrismaPlugin from '@pothos/plugin-prisma';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import ValidationPlugin from '@pothos/plugin-validation';
import { GraphQLError } from 'graphql';
import { authEnabled } from '../auth/identify';
import { config } from '../config';
import { prisma } from '../db/client';
import type PrismaTypes from '../generated/pothos-types';
import { getDatamodel } from '../generated/pothos-types';
import type { Context } from './context';
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
  // Scope auth and complexity run inside execution, so they hold for SOFA's REST calls as well,
  // which skip GraphQL's parse and validate steps.
  plugins: [ScopeAuthPlugin, ComplexityPlugin, ValidationPlugin, PrismaPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: (ctx) => ({
      member: ctx.authenticated,
      admin: ctx.isAdmin,
      operator: !authEnabled || ctx.isAdmin,
    }),
    unauthorizedError: (_parent, ctx) =>
      ctx.authenticated
        ? forbidden('This operation needs an admin')
        : new AppError('UNAUTHENTICATED', ctx.failure ?? 'Not authenticated'),
  },
  complexity: {
    // Every list field states its own multiplier (src/graphql/complexity.ts); the schema refuses one without.
    defaultComplexity: 1,
    limit: { depth: config.graphqlMaxDepth, complexity: config.graphqlMaxComplexity },
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
    client: prisma,
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

builder.scalarType('DateTime', {
  description: 'A point in time, as an ISO 8601 string in UTC with a trailing `Z`, e.g. "2023-05-01T12:00:00.000Z".',
  serialize: (value) => value.toISOString(),
  parseValue: (value) => {
    const date = typeof value === 'string' ? new Date(value) : new Date(Number.NaN);
    if (Number.isNaN(date.getTime())) throw new GraphQLError('DateTime must be an ISO 8601 string');
    return date;
  },
});

builder.queryType({ description: 'Reads.' });
builder.mutationType({ description: 'Writes.' });
builder.subscriptionType({ description: 'Live updates, over Server-Sent Events at /graphql.' });
