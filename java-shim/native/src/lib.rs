//! Native half of the mqbridge JMS provider, loaded by `java-shim` over JNI.
//!
//! This is the only crate of the workspace where `unsafe` code is allowed (JNI entry points).
//! The provider itself is built in a later step; the crate exists so the workspace layout is
//! fixed from the start.
