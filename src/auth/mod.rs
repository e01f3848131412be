//! Users and password verification.
