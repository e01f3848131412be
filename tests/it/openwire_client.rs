//! Integration tests: openwire_client.
