import { describeJourneys } from './journey-suite';

jest.setTimeout(180_000);

describe('the eight journeys of issue 6, events through the PostgreSQL outbox', () => {
  describeJourneys(() => ({}));
});
