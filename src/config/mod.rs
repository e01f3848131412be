//! Configuration (the typed model lands with the config change).
#[derive(Debug, Clone, Default)]
pub struct Config {}
