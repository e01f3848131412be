//! The one integration-test binary: every suite is a module, sharing `common`.

mod admin;
mod amqp_connector;
mod amqp_errors;
mod amqp_lapin;
mod amqp_raw;
mod amqp_selector;
mod cli_route_test;
mod common;
mod openwire_client;
mod openwire_raw;
mod routes_core;
mod routes_external;
mod smtp_outlet;
mod stomp_amqp;
mod stomp_client;
mod stomp_raw;
mod tls;
