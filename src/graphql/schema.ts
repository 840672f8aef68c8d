import { builder } from './builder';
import { assertListsBounded } from './complexity';
import './scalars';
import '../modules/users/schema';
import '../modules/chats/schema';
import '../modules/messages/schema';
import '../modules/usage/schema';
import '../modules/api-keys/schema';

/**
 * The one schema every gateway serves: types and resolvers only. What differs between gateways
 * (database, limits, prices) reaches the resolvers through the context.
 */
export const schema = assertListsBounded(builder.toSchema({ sortSchema: true }));
