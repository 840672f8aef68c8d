import { builder } from './builder';
import { assertListsBounded } from './complexity';
import './scalars';
import '../modules/users';
import '../modules/chats';
import '../modules/messages';
import '../modules/usage';
import '../modules/api-keys';
import '../modules/folders';
import '../modules/imports';
import '../modules/retention';
import '../modules/budgets';
import '../modules/feedback';
import '../modules/shares';

/**
 * The one schema every gateway serves: types and resolvers only. What differs between gateways
 * (database, limits, prices) reaches the resolvers through the context.
 */
export const schema = assertListsBounded(builder.toSchema({ sortSchema: true }));
