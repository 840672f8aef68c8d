// The messages domain: its types, writes (adding and streaming), live updates and pages.
import './types';
import './mutations';
import './subscriptions';
import './queries';
