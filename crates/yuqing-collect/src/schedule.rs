//! The scheduler: polls every enabled source at its interval, with jitter, a few at a time.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use rand::Rng;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;
use yuqing_core::config::SourceConfig;

use crate::fetch::Fetcher;
use crate::pass::{guarded_pass, PassOptions, Sink};

/// Sources due at start-up are spread over at most this long (and at most half the
/// shortest interval), so that a restart does not hit every site in the same second.
const INITIAL_SPREAD: Duration = Duration::from_secs(5);
/// Least time between two passes over one source, whatever its interval and jitter.
const MIN_GAP: Duration = Duration::from_secs(1);
/// On shutdown, running passes may finish the page at hand for this long before
/// they are cancelled.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Runs until `shutdown` turns true (or its sender is dropped).
///
/// Each enabled source is due at its last poll (from the sink) plus its interval,
/// jittered by up to ±`jitter` × interval (drawn anew each time); sources never polled
/// are due at once, staggered over a few seconds. At most `concurrency` sources are
/// collected at a time and a source is never collected twice at once. A failing or
/// panicking source only fails its own pass.
pub async fn run_scheduler<S: Sink + 'static>(
    fetcher: Arc<Fetcher>,
    sources: Vec<SourceConfig>,
    sink: Arc<S>,
    opts: PassOptions,
    jitter: f64,
    concurrency: usize,
    mut shutdown: watch::Receiver<bool>,
) {
    let sources: Vec<Arc<SourceConfig>> = sources.into_iter().filter(|s| s.enabled).map(Arc::new).collect();
    let opts = Arc::new(opts);
    let jitter = if jitter.is_finite() { jitter.clamp(0.0, 1.0) } else { 0.0 };
    let concurrency = concurrency.max(1);
    tracing::info!(sources = sources.len(), concurrency, jitter, "The collection scheduler is starting.");

    let mut due = initial_due(&sources, &*sink, jitter).await;
    let mut in_flight = vec![false; sources.len()];
    let mut running: JoinSet<(usize, Instant)> = JoinSet::new();
    let mut task_index: HashMap<tokio::task::Id, usize> = HashMap::new();

    loop {
        if *shutdown.borrow() {
            break;
        }
        let next = (0..sources.len()).filter(|&i| !in_flight[i]).min_by_key(|&i| due[i]);
        let wake = match next {
            Some(i) if running.len() < concurrency => Some(due[i]),
            _ => None,
        };
        tokio::select! {
            biased;
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    break;
                }
            }
            Some(joined) = running.join_next_with_id(), if !running.is_empty() => {
                let (id, started) = match joined {
                    Ok((id, (_, started))) => (id, Some(started)),
                    Err(e) => (e.id(), None),
                };
                if let Some(i) = task_index.remove(&id) {
                    in_flight[i] = false;
                    let from = started.unwrap_or_else(Instant::now);
                    due[i] = later(from, jittered(sources[i].interval, jitter)).max(Instant::now() + MIN_GAP);
                }
            }
            _ = sleep_until_opt(wake), if wake.is_some() => {
                let now = Instant::now();
                let mut ready: Vec<usize> = (0..sources.len()).filter(|&i| !in_flight[i] && due[i] <= now).collect();
                ready.sort_by_key(|&i| due[i]);
                for i in ready.into_iter().take(concurrency.saturating_sub(running.len())) {
                    in_flight[i] = true;
                    let (fetcher, sink, opts, source) =
                        (Arc::clone(&fetcher), Arc::clone(&sink), Arc::clone(&opts), Arc::clone(&sources[i]));
                    let stop = shutdown.clone();
                    let handle = running.spawn(async move {
                        let started = Instant::now();
                        guarded_pass(&fetcher, &source, &*sink, &opts, Some(&stop)).await;
                        (i, started)
                    });
                    task_index.insert(handle.id(), i);
                }
            }
        }
    }

    tracing::info!(running = running.len(), "The collection scheduler is stopping.");
    // Running passes see the shutdown flag between pages; give them a moment, then cancel.
    let drain = async { while running.join_next().await.is_some() {} };
    if tokio::time::timeout(SHUTDOWN_GRACE, drain).await.is_err() {
        running.abort_all();
        while running.join_next().await.is_some() {}
    }
    tracing::info!("The collection scheduler has stopped.");
}

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// When each source is first due: last poll + jittered interval, or now for sources
/// never polled (or overdue), staggered.
async fn initial_due<S: Sink>(sources: &[Arc<SourceConfig>], sink: &S, jitter: f64) -> Vec<Instant> {
    let now = Instant::now();
    let wall_now = Utc::now();
    let mut remaining = Vec::with_capacity(sources.len());
    for s in sources {
        let r = match sink.last_polled(&s.name).await {
            Some(last) => {
                // A last poll in the future (clock moved back) counts as just now.
                let elapsed = (wall_now - last).to_std().unwrap_or(Duration::ZERO);
                jittered(s.interval, jitter).saturating_sub(elapsed)
            }
            None => Duration::ZERO,
        };
        remaining.push(r);
    }
    let overdue = remaining.iter().filter(|r| r.is_zero()).count().max(1) as u32;
    let shortest = sources.iter().map(|s| s.interval).min().unwrap_or(INITIAL_SPREAD);
    let spread = INITIAL_SPREAD.min(shortest / 2);
    let mut k = 0u32;
    remaining
        .into_iter()
        .map(|r| {
            if r.is_zero() {
                let at = now + spread * k / overdue;
                k += 1;
                at
            } else {
                later(now, r)
            }
        })
        .collect()
}

/// `at + d`, saturating at a year ahead: an absurd interval must not overflow `Instant`.
fn later(at: Instant, d: Duration) -> Instant {
    const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);
    at.checked_add(d.min(YEAR)).unwrap_or(at)
}

/// `interval` ± up to `jitter` × `interval`, uniformly.
fn jittered(interval: Duration, jitter: f64) -> Duration {
    if jitter <= 0.0 {
        return interval.max(MIN_GAP);
    }
    let factor = 1.0 + rand::thread_rng().gen_range(-jitter..=jitter);
    Duration::try_from_secs_f64(interval.as_secs_f64() * factor).unwrap_or(interval).max(MIN_GAP)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_in_bounds() {
        let i = Duration::from_secs(600);
        for _ in 0..1000 {
            let j = jittered(i, 0.2);
            assert!(j >= Duration::from_secs(480) && j <= Duration::from_secs(720), "{j:?}");
        }
        assert_eq!(jittered(i, 0.0), i);
        assert_eq!(jittered(Duration::ZERO, 0.5), MIN_GAP);
    }
}
