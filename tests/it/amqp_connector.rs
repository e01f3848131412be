//! Integration tests: amqp_connector.
