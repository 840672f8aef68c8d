import { configureGateway } from '../support/gateway';
import { SHORT_DEADLINE } from '../support/settings';
import { deadlineCases } from './deadline-cases';

// Every query interpreted by the executor, as production runs a /graphql query's first run.
configureGateway({
  ...SHORT_DEADLINE,
  GRAPHQL_COMPILE_AFTER: '0',
  REST_COMPILED_EXECUTION: 'false',
  GRAPHQL_DIRECT_READS: 'false',
});

deadlineCases();
