import { configureGateway } from '../support/gateway';
import { SHORT_DEADLINE } from '../support/settings';
import { deadlineCases } from './deadline-cases';

// Every query compiled: the suite's GRAPHQL_COMPILE_AFTER=1, and REST's operations.
// The executor's deadline: queries answered directly are test/graphql/direct-queries.test.ts's.
configureGateway({ ...SHORT_DEADLINE, GRAPHQL_DIRECT_READS: 'false' });

deadlineCases();
