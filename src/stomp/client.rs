//! The STOMP client: consume from and send to an existing STOMP broker (routes).
