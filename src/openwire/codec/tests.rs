//! Codec tests: fixtures captured from the real client and broker, round trips, splits,
//! garbage, modified UTF-8.
