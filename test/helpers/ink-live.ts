// Ink draws no live frames when is-in-ci says it runs in CI (read once, when Ink is first imported).
// A test that reads the frames an in-process UI draws imports this module first, before anything
// that loads Ink, as `lvsdeck serve` clears the markers before Ink loads (prepareServerEnv).
delete process.env.CI;
delete process.env.CONTINUOUS_INTEGRATION;
