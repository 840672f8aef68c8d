import { builder } from '../builder';
import './users';
import './chats';
import './messages';
import './usage';
import './api-keys';

export const schema = builder.toSchema({ sortSchema: true });
