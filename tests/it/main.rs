//! The one integration-test binary: every suite is a module, sharing `common`.

mod amqp_errors;
mod amqp_lapin;
mod amqp_raw;
mod common;
mod openwire_raw;
mod stomp_amqp;
mod stomp_raw;
