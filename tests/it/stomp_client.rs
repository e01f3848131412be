//! Integration tests: stomp_client.
