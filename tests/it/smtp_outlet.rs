//! Integration tests: smtp_outlet.
