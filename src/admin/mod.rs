//! The management HTTP side: the web UI (more to come with the API).

pub mod ui;
