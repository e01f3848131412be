//! Per-vhost permissions: RabbitMQ's configure/write/read regular expressions.
//!
//! This module owns what a logged-in user may do to which resource, and the refusal text.
//! The model is RabbitMQ's ("how permissions work" in its access-control guide):
//!
//! - a user has, per vhost, three regexes matched against queue and exchange names;
//! - the match is *unanchored*, as Erlang's `re:run` does (`ord` matches `orders`; anchor
//!   with `^...$` to mean the whole name);
//! - the empty string grants nothing, `.*` everything;
//! - a user with no entry for a vhost may not open it at all.
//!
//! Which operation needs which access is the front-ends' business (they map their frames
//! onto AMQP resources); this module only answers [`Grants::check`].

use std::collections::BTreeMap;
use std::fmt;

use regex::Regex;

/// The kind of access an operation needs (RabbitMQ's three permissions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// Create or delete the resource (declare, delete).
    Configure,
    /// Inject messages into it (publish to an exchange, bind a queue as destination).
    Write,
    /// Take messages out of it (consume, get, purge, bind from an exchange as source).
    Read,
}

impl Access {
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Configure => "configure",
            Access::Write => "write",
            Access::Read => "read",
        }
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A resource permissions apply to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource<'a> {
    Queue(&'a str),
    /// An exchange; the default exchange is `amq.default` here (what RabbitMQ checks).
    Exchange(&'a str),
}

impl<'a> Resource<'a> {
    /// An exchange as a client names it: `""` is the default exchange, checked as
    /// `amq.default` (RabbitMQ's rule).
    pub fn exchange(name: &'a str) -> Resource<'a> {
        if name.is_empty() {
            Resource::Exchange("amq.default")
        } else {
            Resource::Exchange(name)
        }
    }

    pub fn name(&self) -> &'a str {
        match self {
            Resource::Queue(n) | Resource::Exchange(n) => n,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Resource::Queue(_) => "queue",
            Resource::Exchange(_) => "exchange",
        }
    }
}

/// Why an operation was refused. Its text is RabbitMQ's, so an AMQP client sees
/// `ACCESS_REFUSED - access to queue 'q' in vhost '/' refused for user 'u'`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PermissionDenied {
    #[error("access to {kind} '{name}' in vhost '{vhost}' refused for user '{user}'")]
    Resource {
        user: String,
        vhost: String,
        access: Access,
        kind: &'static str,
        name: String,
    },
    #[error("access to vhost '{vhost}' refused for user '{user}'")]
    Vhost { user: String, vhost: String },
}

/// One regex as written in the config, compiled once. `""` grants nothing.
#[derive(Debug, Clone)]
struct Pattern {
    source: String,
    compiled: Compiled,
}

#[derive(Debug, Clone)]
enum Compiled {
    Nothing,
    /// `.*` (the common case): skips the regex engine on every publish.
    Everything,
    Regex(Regex),
}

impl Pattern {
    fn new(source: &str) -> Result<Pattern, regex::Error> {
        let compiled = match source {
            "" => Compiled::Nothing,
            ".*" => Compiled::Everything,
            other => Compiled::Regex(Regex::new(other)?),
        };
        Ok(Pattern {
            source: source.to_string(),
            compiled,
        })
    }

    fn everything() -> Pattern {
        Pattern {
            source: ".*".to_string(),
            compiled: Compiled::Everything,
        }
    }

    fn matches(&self, name: &str) -> bool {
        match &self.compiled {
            Compiled::Nothing => false,
            Compiled::Everything => true,
            // `is_match` searches anywhere in the name: unanchored, as `re:run`.
            Compiled::Regex(r) => r.is_match(name),
        }
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for Pattern {}

/// A user's three regexes on one vhost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VhostPermissions {
    configure: Pattern,
    write: Pattern,
    read: Pattern,
}

impl VhostPermissions {
    /// Compile the three regexes (`regex` crate syntax, which covers what RabbitMQ users
    /// write: classes, alternation, anchors, `\.`).
    pub fn new(configure: &str, write: &str, read: &str) -> Result<Self, regex::Error> {
        Ok(VhostPermissions {
            configure: Pattern::new(configure)?,
            write: Pattern::new(write)?,
            read: Pattern::new(read)?,
        })
    }

    /// `.*` for all three.
    pub fn full() -> Self {
        VhostPermissions {
            configure: Pattern::everything(),
            write: Pattern::everything(),
            read: Pattern::everything(),
        }
    }

    pub fn configure(&self) -> &str {
        &self.configure.source
    }

    pub fn write(&self) -> &str {
        &self.write.source
    }

    pub fn read(&self) -> &str {
        &self.read.source
    }

    /// Whether `access` to a resource called `name` is granted.
    pub fn allows(&self, access: Access, name: &str) -> bool {
        match access {
            Access::Configure => self.configure.matches(name),
            Access::Write => self.write.matches(name),
            Access::Read => self.read.matches(name),
        }
    }
}

/// What a user is granted across vhosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grants {
    /// `.*`/`.*`/`.*` on every vhost: users whose `permissions` key is absent (configs
    /// written before permissions existed keep working) and the built-in guest.
    AllVhosts,
    /// Exactly these vhosts; a vhost not in the map may not be opened.
    Vhosts(BTreeMap<String, VhostPermissions>),
}

impl Grants {
    /// No vhost at all (`permissions: {}`).
    pub fn none() -> Grants {
        Grants::Vhosts(BTreeMap::new())
    }

    /// The permissions on `vhost`, `None` when the user may not open it.
    pub fn vhost(&self, vhost: &str) -> Option<VhostPermissionsRef<'_>> {
        match self {
            Grants::AllVhosts => Some(VhostPermissionsRef::Full),
            Grants::Vhosts(map) => map.get(vhost).map(VhostPermissionsRef::Some),
        }
    }

    /// May `user` open `vhost`?
    pub fn check_vhost(&self, user: &str, vhost: &str) -> Result<(), PermissionDenied> {
        match self.vhost(vhost) {
            Some(_) => Ok(()),
            None => Err(PermissionDenied::Vhost {
                user: user.to_string(),
                vhost: vhost.to_string(),
            }),
        }
    }

    /// May `user` have `access` to `resource` in `vhost`?
    pub fn check(
        &self,
        user: &str,
        vhost: &str,
        access: Access,
        resource: Resource<'_>,
    ) -> Result<(), PermissionDenied> {
        let allowed = match self.vhost(vhost) {
            Some(VhostPermissionsRef::Full) => true,
            Some(VhostPermissionsRef::Some(p)) => p.allows(access, resource.name()),
            None => false,
        };
        if allowed {
            Ok(())
        } else {
            Err(PermissionDenied::Resource {
                user: user.to_string(),
                vhost: vhost.to_string(),
                access,
                kind: resource.kind(),
                name: resource.name().to_string(),
            })
        }
    }
}

/// A borrowed view of one vhost's permissions.
#[derive(Debug, Clone, Copy)]
pub enum VhostPermissionsRef<'a> {
    Full,
    Some(&'a VhostPermissions),
}
