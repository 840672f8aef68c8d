import { builder } from '../builder';
import './users';
import './chats';
import './messages';
import './usage';

export const schema = builder.toSchema({ sortSchema: true });
