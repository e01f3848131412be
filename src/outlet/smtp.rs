//! The SMTP outlet: a message becomes a mail (lettre).
