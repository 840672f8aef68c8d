import { builder } from './builder';
import { assertListsBounded } from './complexity';
import '../modules/users/schema';
import '../modules/chats/schema';
import '../modules/messages/schema';
import '../modules/usage/schema';
import '../modules/api-keys/schema';

export const schema = assertListsBounded(builder.toSchema({ sortSchema: true }));
