import { escapedErrors, started } from './gateway-process';

// No test may leave an error unhandled. In this process Jest already fails the test that left a
// rejection behind; in the gateway processes a test started, such an error is only a log line
// (src/index.ts logs it rather than crash), so every file reads its gateways' logs at the end.
afterAll(() => {
  const escaped = started.flatMap(escapedErrors);
  if (escaped.length > 0) throw new Error(`a gateway logged errors nothing handled:\n${escaped.join('\n')}`);
});
