//! Resource alarms: when the process uses more memory than its high watermark, or the
//! data directory's disk has less free space than its limit, publishers are blocked
//! (AMQP `connection.blocked`, `channel.flow`) until it is back under the limits.

use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::time::Duration;

use crate::broker::Broker;

/// The limits to watch; `None` disables a check.
#[derive(Debug, Clone, Default)]
pub struct ResourceLimits {
    pub memory_high_watermark: Option<u64>,
    pub disk_free_limit: Option<u64>,
    /// Where the store lives (the disk to watch); the current directory if none.
    pub data_dir: Option<PathBuf>,
}

/// What one check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub resident_bytes: Option<u64>,
    pub disk_free_bytes: Option<u64>,
}

impl ResourceLimits {
    /// Whether `usage` is over a limit, with the reason for the log.
    pub fn exceeded(&self, usage: Usage) -> Option<String> {
        if let (Some(limit), Some(used)) = (self.memory_high_watermark, usage.resident_bytes) {
            if used > limit {
                return Some(format!("memory {used} B over the high watermark {limit} B"));
            }
        }
        if let (Some(limit), Some(free)) = (self.disk_free_limit, usage.disk_free_bytes) {
            if free < limit {
                return Some(format!("disk free {free} B under the limit {limit} B"));
            }
        }
        None
    }

    pub fn measure(&self) -> Usage {
        Usage {
            resident_bytes: resident_bytes(),
            disk_free_bytes: self.disk_free(),
        }
    }

    fn disk_free(&self) -> Option<u64> {
        let dir = self.data_dir.clone().unwrap_or_else(|| PathBuf::from("."));
        let stat = nix::sys::statvfs::statvfs(&dir).ok()?;
        Some(stat.blocks_available() as u64 * stat.fragment_size() as u64)
    }
}

/// Resident set size of this process, from `/proc/self/status` (Linux).
pub fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Check the limits every `period` and raise or clear the broker's alarm.
pub fn spawn_monitor(broker: &Arc<Broker>, limits: ResourceLimits, period: Duration) {
    if limits.memory_high_watermark.is_none() && limits.disk_free_limit.is_none() {
        return;
    }
    let weak: Weak<Broker> = Arc::downgrade(broker);
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(period);
        let mut raised = false;
        loop {
            interval.tick().await;
            let Some(broker) = weak.upgrade() else { return };
            let usage = limits.measure();
            match limits.exceeded(usage) {
                Some(reason) if !raised => {
                    tracing::warn!(%reason, "Resource alarm raised; publishers are blocked.");
                    raised = true;
                    broker.set_alarm(true);
                }
                None if raised => {
                    tracing::info!("Resource alarm cleared; publishers may continue.");
                    raised = false;
                    broker.set_alarm(false);
                }
                _ => {}
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_compared_both_ways() {
        let limits = ResourceLimits {
            memory_high_watermark: Some(100),
            disk_free_limit: Some(50),
            data_dir: None,
        };
        let ok = Usage {
            resident_bytes: Some(100),
            disk_free_bytes: Some(50),
        };
        assert_eq!(limits.exceeded(ok), None);
        let memory = Usage {
            resident_bytes: Some(101),
            disk_free_bytes: Some(50),
        };
        assert!(limits
            .exceeded(memory)
            .is_some_and(|r| r.contains("memory")));
        let disk = Usage {
            resident_bytes: Some(1),
            disk_free_bytes: Some(49),
        };
        assert!(limits.exceeded(disk).is_some_and(|r| r.contains("disk")));
    }

    #[test]
    fn this_process_can_be_measured() {
        let usage = ResourceLimits::default().measure();
        assert!(usage.resident_bytes.is_some_and(|b| b > 0));
        assert!(usage.disk_free_bytes.is_some_and(|b| b > 0));
    }
}
