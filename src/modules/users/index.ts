import { z } from 'zod';
import { actingAs } from '../../auth/access';
import type { Db } from '../../db/client';
import { isPrismaError } from '../../db/errors';
import { textSchema } from '../../graphql/args';
import { builder } from '../../graphql/builder';
import { badInput, notFound } from '../../graphql/errors';

builder.prismaObject('User', {
  description: 'A person using the chat app, known by their email.',
  fields: (t) => ({
    user_id: t.exposeInt('user_id', { description: 'The user’s ID.' }),
    username: t.exposeString('username', { description: 'Display name, as given when the user was created.' }),
    email: t.exposeString('email', { description: 'Email address, stored lower-case.' }),
    created_at: t.expose('created_at', { type: 'DateTime', description: 'When the user was created.' }),
  }),
});

/** Emails are compared case-insensitively by storing them lower-case, which works on every database. */
export const normalizeEmail = (email: string) => email.trim().toLowerCase();

/** Turns "no such user" into an input error before a write would fail on the foreign key. */
export async function assertUserExists(ctx: { readonly db: Db }, userId: number): Promise<void> {
  const user = await ctx.db.user.findUnique({ where: { user_id: userId }, select: { user_id: true } });
  if (!user) throw badInput(`User with ID ${userId} not found`);
}

/** For `.catch()` on a write: the user vanished between the check and the write (foreign key). */
export function unknownUser(userId: number | null | undefined) {
  return (error: unknown): never => {
    if (userId != null && isPrismaError(error, 'P2003')) throw badInput(`User with ID ${userId} not found`);
    throw error;
  };
}

builder.queryField('user', (t) =>
  t.prismaField({
    type: 'User',
    description: 'One user by ID. With authentication on, callers see only themselves (an admin sees anyone).',
    authScopes: { member: true },
    args: { user_id: t.arg.int({ required: true, description: 'The user’s ID.' }) },
    resolve: async (query, _root, { user_id }, ctx) => {
      const user = actingAs(ctx, user_id).allowed && (await ctx.db.user.findUnique({ ...query, where: { user_id } }));
      if (!user) throw notFound(`User with ID ${user_id} not found`);
      return user;
    },
  }),
);

builder.mutationField('create_or_get_user', (t) =>
  t.prismaField({
    type: 'User',
    description:
      'Creates a user, or returns the existing user with that email (compared case-insensitively; the stored username is kept). With authentication on, only an admin provisions users.',
    authScopes: { operator: true },
    args: {
      username: t.arg.string({
        required: true,
        description: 'Display name, 1 to 100 characters.',
        validate: textSchema(100),
      }),
      email: t.arg.string({
        required: true,
        description: 'Email address; identifies the user.',
        validate: z
          .string()
          .trim()
          .max(254, 'must be at most 254 characters')
          .pipe(z.email('must be a valid email address')),
      }),
    },
    resolve: async (query, _root, { username, email }, ctx) => {
      const where = { email: normalizeEmail(email) };
      const existing = await ctx.db.user.findUnique({ ...query, where });
      if (existing) return existing;
      try {
        return await ctx.db.user.create({ ...query, data: { username: username.trim(), ...where } });
      } catch (error) {
        // Two first logins with one email: the loser of the race reads the winner's row.
        if (isPrismaError(error, 'P2002')) {
          return ctx.db.user.findUniqueOrThrow({ ...query, where });
        }
        throw error;
      }
    },
  }),
);
