import { configureGateway } from '../support/gateway';
import { SHORT_DEADLINE } from '../support/settings';
import { deadlineCases } from './deadline-cases';

// Every query compiled: the suite's GRAPHQL_COMPILE_AFTER=1, and REST's operations.
configureGateway(SHORT_DEADLINE);

deadlineCases();
