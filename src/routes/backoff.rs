//! Exponential backoff with jitter, for retries and reconnects.

use std::time::Duration;

use rand::Rng;

/// Doubles from `initial` up to `max`; each wait is drawn between half and all of the
/// current step ("equal jitter"), so routes that failed together do not retry together.
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    step: Duration,
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration) -> Self {
        let max = max.max(initial);
        Backoff {
            initial,
            max,
            step: initial,
        }
    }

    /// The next wait.
    pub fn next_delay(&mut self) -> Duration {
        let step = self.step;
        self.step = (self.step * 2).min(self.max);
        let half = step / 2;
        let jitter_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
        half + Duration::from_millis(rand::rng().random_range(0..=jitter_ms))
    }

    /// Back to the first step (after a success).
    pub fn reset(&mut self) {
        self.step = self.initial;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_max_with_jitter() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_millis(1000));
        let steps = [100, 200, 400, 800, 1000, 1000];
        for step in steps {
            let d = b.next_delay();
            assert!(
                d >= Duration::from_millis(step / 2) && d <= Duration::from_millis(step),
                "{d:?} not in [{}, {step}] ms",
                step / 2
            );
        }
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(100));
    }
}
