// The usage ledger: model calls, their prices and costs, and summaries.
import './types';
import './queries';
import './mutations';
