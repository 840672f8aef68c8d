// The chats domain: its types, reads, writes, live updates, export and search.
import './types';
import './queries';
import './mutations';
import './subscriptions';
import './export';
