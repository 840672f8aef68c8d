import { newApiKey } from '../../auth/keys';
import { textSchema } from '../../graphql/args';
import { builder } from '../../graphql/builder';
import { notFound } from '../../graphql/errors';
import { assertUserExists, unknownUser } from '../users';

builder.prismaObject('ApiKey', {
  description: 'A per-user key for AUTH_MODE=api-key (sent as `X-API-Key`). The key itself is never stored.',
  fields: (t) => ({
    api_key_id: t.exposeInt('api_key_id', { description: 'The key’s ID.' }),
    user_id: t.exposeInt('user_id', { description: 'The user the key acts as.' }),
    name: t.exposeString('name', { nullable: true, description: 'What the key is for.' }),
    key_prefix: t.exposeString('key_prefix', { description: 'The first characters of the key, to tell keys apart.' }),
    created_at: t.expose('created_at', { type: 'DateTime', description: 'When the key was created.' }),
    revoked_at: t.expose('revoked_at', {
      type: 'DateTime',
      nullable: true,
      description: 'When the key was revoked; null while it works.',
    }),
  }),
});

const CreatedApiKey = builder
  .objectRef<{ api_key: string; record: { api_key_id: number } }>('CreatedApiKey')
  .implement({
    description: 'A new API key. `api_key` is shown this once; only its hash is kept.',
    fields: (t) => ({
      api_key: t.exposeString('api_key', { description: 'The key, to send as `X-API-Key`.' }),
      key: t.prismaField({
        type: 'ApiKey',
        description: 'The stored record of the key.',
        resolve: (query, parent, _args, ctx) =>
          ctx.db.apiKey.findUniqueOrThrow({ ...query, where: { api_key_id: parent.record.api_key_id } }),
      }),
    }),
  });

builder.mutationFields((t) => ({
  create_api_key: t.field({
    type: CreatedApiKey,
    description: 'Creates an API key for a user (admins only).',
    authScopes: { admin: true },
    args: {
      user_id: t.arg.int({ required: true, description: 'The user the key acts as; must exist.' }),
      name: t.arg.string({
        description: 'What the key is for, up to 100 characters.',
        validate: textSchema(100).optional().nullable(),
      }),
    },
    resolve: async (_root, { user_id, name }, ctx) => {
      await assertUserExists(ctx, user_id);
      const { key, hash, prefix } = newApiKey();
      const record = await ctx.db.apiKey
        .create({
          data: { user_id, name: name?.trim() ?? null, key_hash: hash, key_prefix: prefix },
          select: { api_key_id: true },
        })
        .catch(unknownUser(user_id));
      return { api_key: key, record };
    },
  }),
  revoke_api_key: t.prismaField({
    type: 'ApiKey',
    description: 'Revokes an API key (admins only); requests with it are refused from then on.',
    authScopes: { admin: true },
    args: { api_key_id: t.arg.int({ required: true, description: 'The key’s ID.' }) },
    resolve: async (query, _root, { api_key_id }, ctx) => {
      const { count } = await ctx.db.apiKey.updateMany({
        where: { api_key_id, revoked_at: null },
        data: { revoked_at: new Date() },
      });
      const key = await ctx.db.apiKey.findUnique({ ...query, where: { api_key_id } });
      if (!key || (count === 0 && !key.revoked_at)) throw notFound(`API key ${api_key_id} not found`);
      return key;
    },
  }),
}));
