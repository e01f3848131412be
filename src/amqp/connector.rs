//! The AMQP 0-9-1 connector: lapin to an external broker or cluster (routes).
