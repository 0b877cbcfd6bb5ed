//! Token buckets, one set per channel instance.
//!
//! A send waits for a token instead of failing: an alert that has to wait a few seconds
//! is better than one the platform refuses. Waiters are served in arrival order (the
//! queue is a fair `tokio::sync::Mutex`, held while sleeping), so alerts leave in the
//! order they were handed over and none is lost.

use std::sync::Mutex as StdMutex;
use std::time::Duration;
use tokio::time::Instant;
use yuqing_core::config::ChannelKind;

/// At most `count` messages per `per`, with bursts up to `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub count: u32,
    pub per: Duration,
}

impl RateLimit {
    pub const fn per_minute(count: u32) -> RateLimit {
        RateLimit { count, per: Duration::from_secs(60) }
    }

    pub const fn per_second(count: u32) -> RateLimit {
        RateLimit { count, per: Duration::from_secs(1) }
    }

    /// The platform limits: WeCom and DingTalk 20 a minute per bot, Feishu 100 a minute
    /// and 5 a second, e-mail 30 a minute (to stay clear of relays' throttling), a
    /// generic webhook 60 a minute unless configured.
    pub fn defaults(kind: ChannelKind) -> Vec<RateLimit> {
        match kind {
            ChannelKind::Wecom | ChannelKind::Dingtalk => vec![RateLimit::per_minute(20)],
            ChannelKind::Feishu => vec![RateLimit::per_minute(100), RateLimit::per_second(5)],
            ChannelKind::Webhook => vec![RateLimit::per_minute(60)],
            ChannelKind::Email => vec![RateLimit::per_minute(30)],
        }
    }
}

#[derive(Debug)]
struct Bucket {
    limit: RateLimit,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn new(limit: RateLimit, now: Instant) -> Bucket {
        Bucket { limit, tokens: f64::from(limit.count), at: now }
    }

    fn rate_per_sec(&self) -> f64 {
        f64::from(self.limit.count) / self.limit.per.as_secs_f64().max(1e-9)
    }

    fn refill(&mut self, now: Instant) {
        let dt = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + dt * self.rate_per_sec()).min(f64::from(self.limit.count));
        self.at = now;
    }

    fn wait(&self) -> Duration {
        if self.tokens >= 1.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((1.0 - self.tokens) / self.rate_per_sec())
        }
    }
}

#[derive(Debug)]
pub(crate) struct Limiter {
    /// The queue: whoever holds it is the next to send.
    queue: tokio::sync::Mutex<()>,
    buckets: StdMutex<Vec<Bucket>>,
}

impl Limiter {
    pub(crate) fn new(limits: &[RateLimit]) -> Limiter {
        let now = Instant::now();
        let buckets = limits.iter().filter(|l| l.count > 0).map(|l| Bucket::new(*l, now)).collect();
        Limiter { queue: tokio::sync::Mutex::new(()), buckets: StdMutex::new(buckets) }
    }

    fn with_buckets<T>(&self, f: impl FnOnce(&mut Vec<Bucket>) -> T) -> T {
        // A poisoned lock only means another sender panicked mid-update; the counts are
        // still usable numbers.
        let mut guard = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }

    /// How long until a message could go out (zero when a token is there now).
    pub(crate) fn next_ready(&self) -> Duration {
        let now = Instant::now();
        self.with_buckets(|bs| {
            bs.iter_mut()
                .map(|b| {
                    b.refill(now);
                    b.wait()
                })
                .max()
                .unwrap_or(Duration::ZERO)
        })
    }

    /// Waits in line for a token from every bucket; returns how long it waited.
    pub(crate) async fn acquire(&self) -> Duration {
        let start = Instant::now();
        let _turn = self.queue.lock().await;
        loop {
            let now = Instant::now();
            let wait = self.with_buckets(|bs| {
                let wait = bs.iter_mut().map(|b| {
                    b.refill(now);
                    b.wait()
                });
                let wait = wait.max().unwrap_or(Duration::ZERO);
                if wait.is_zero() {
                    for b in bs.iter_mut() {
                        b.tokens -= 1.0;
                    }
                }
                wait
            });
            if wait.is_zero() {
                return start.elapsed();
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// The platform said we are too fast: assume its window is full, so that the next
    /// sends (and `next_ready`) wait for a fresh token.
    pub(crate) fn exhaust(&self) {
        let now = Instant::now();
        self.with_buckets(|bs| {
            for b in bs.iter_mut() {
                b.refill(now);
                b.tokens = b.tokens.min(0.0);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Real time with small durations (no tokio test-util in the workspace); the
    // assertions only bound from below or loosely, so a slow machine does not fail them.

    #[tokio::test]
    async fn burst_then_waits_for_refill() {
        let l = Limiter::new(&[RateLimit { count: 3, per: Duration::from_millis(300) }]);
        for _ in 0..3 {
            assert!(l.acquire().await < Duration::from_millis(50));
        }
        assert!(l.next_ready() > Duration::from_millis(50));
        let waited = l.acquire().await;
        assert!(waited >= Duration::from_millis(60), "{waited:?}");
    }

    #[tokio::test]
    async fn the_strictest_bucket_wins() {
        let l = Limiter::new(&[RateLimit::per_minute(100), RateLimit::per_second(5)]);
        for _ in 0..5 {
            l.acquire().await;
        }
        let w = l.next_ready();
        assert!(w > Duration::from_millis(100) && w <= Duration::from_millis(200), "{w:?}");
    }

    #[tokio::test]
    async fn exhaust_makes_the_next_send_wait() {
        let l = Limiter::new(&[RateLimit::per_minute(20)]);
        assert_eq!(l.next_ready(), Duration::ZERO);
        l.exhaust();
        assert!(l.next_ready() >= Duration::from_secs(2));
    }
}
