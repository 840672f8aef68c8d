import { builder } from '../builder';
import { assertListsBounded } from '../graphql/complexity';
import './users';
import './chats';
import './messages';
import './usage';
import './api-keys';

export const schema = assertListsBounded(builder.toSchema({ sortSchema: true }));
