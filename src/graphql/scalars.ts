import { GraphQLError } from 'graphql';
import { builder } from './builder';

builder.scalarType('DateTime', {
  description: 'A point in time, as an ISO 8601 string in UTC with a trailing `Z`, e.g. "2023-05-01T12:00:00.000Z".',
  serialize: (value) => value.toISOString(),
  parseValue: (value) => {
    const date = typeof value === 'string' ? new Date(value) : new Date(Number.NaN);
    if (Number.isNaN(date.getTime())) throw new GraphQLError('DateTime must be an ISO 8601 string');
    return date;
  },
});
