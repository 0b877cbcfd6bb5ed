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
use crate::pass::{guarded_pass, LeaseAnswer, PassOptions, Sink};

/// Sources due at start-up are spread over at most this long (and at most half the
/// shortest interval), so that a restart does not hit every site in the same second.
const INITIAL_SPREAD: Duration = Duration::from_secs(5);
/// Least time between two passes over one source, whatever its interval and jitter.
const MIN_GAP: Duration = Duration::from_secs(1);
/// On shutdown, running passes may finish the page at hand for this long before
/// they are cancelled.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// How the scheduler paces and shares its work.
#[derive(Debug, Clone, Copy)]
pub struct ScheduleOptions {
    /// Share of the interval by which polls are jittered (0..1).
    pub jitter: f64,
    /// Sources collected at the same time.
    pub concurrency: usize,
    /// How long a granted lease holds (renewed at a third of it while the pass runs).
    pub lease_for: Duration,
}

/// What one scheduled task did.
enum Ran {
    /// Polled, starting then; the next pass is due after this long.
    Polled { started: Instant, next_in: Duration },
    /// The lease was refused: ask again at this moment.
    Refused(Instant),
}

/// Runs until `shutdown` turns true (or its sender is dropped).
///
/// Each enabled source is due at its last poll (from the sink) plus its interval,
/// jittered by up to ±`jitter` × interval (drawn anew each time); sources never polled
/// are due at once, staggered over a few seconds. When a source comes due the sink is
/// asked for its lease: when several processes share the sources, only the one granted
/// polls it, the others learn when to ask again. At most `concurrency` sources are
/// collected at a time and a source is never collected twice at once. A failing or
/// panicking source only fails its own pass.
pub async fn run_scheduler<S: Sink + 'static>(
    fetcher: Arc<Fetcher>,
    sources: Vec<SourceConfig>,
    sink: Arc<S>,
    opts: PassOptions,
    schedule: ScheduleOptions,
    mut shutdown: watch::Receiver<bool>,
) {
    let ScheduleOptions { jitter, concurrency, lease_for } = schedule;
    let lease_for = lease_for.max(Duration::from_secs(3));
    let sources: Vec<Arc<SourceConfig>> = sources.into_iter().filter(|s| s.enabled).map(Arc::new).collect();
    let opts = Arc::new(opts);
    let jitter = if jitter.is_finite() { jitter.clamp(0.0, 1.0) } else { 0.0 };
    let concurrency = concurrency.max(1);
    tracing::info!(sources = sources.len(), concurrency, jitter, "The collection scheduler is starting.");

    let mut due = initial_due(&sources, &*sink, jitter).await;
    let mut in_flight = vec![false; sources.len()];
    let mut running: JoinSet<(usize, Ran)> = JoinSet::new();
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
                let (id, ran) = match joined {
                    Ok((id, (_, ran))) => (id, Some(ran)),
                    Err(e) => (e.id(), None),
                };
                if let Some(i) = task_index.remove(&id) {
                    in_flight[i] = false;
                    due[i] = match ran {
                        Some(Ran::Polled { started, next_in }) => later(started, next_in).max(Instant::now() + MIN_GAP),
                        Some(Ran::Refused(at)) => at.max(Instant::now() + MIN_GAP),
                        None => later(Instant::now(), jittered(sources[i].interval, jitter)),
                    };
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
                    let next_in = jittered(source.interval, jitter);
                    let handle = running.spawn(async move {
                        let ran = leased_pass(&fetcher, &source, &*sink, &opts, &stop, lease_for, next_in).await;
                        (i, ran)
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

/// One pass under the source's lease: asks for it, renews it while the pass runs, and
/// gives it back with the next due time.
async fn leased_pass<S: Sink>(
    fetcher: &Fetcher,
    source: &SourceConfig,
    sink: &S,
    opts: &PassOptions,
    stop: &watch::Receiver<bool>,
    lease_for: Duration,
    next_in: Duration,
) -> Ran {
    let wall_start = Utc::now();
    let started = Instant::now();
    match sink.lease(&source.name, lease_for).await {
        LeaseAnswer::Granted => {}
        LeaseAnswer::Wait(at) => {
            let wait = (at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
            return Ran::Refused(later(Instant::now(), wait));
        }
    }
    let pass = guarded_pass(fetcher, source, sink, opts, Some(stop));
    let renew = async {
        let mut tick = tokio::time::interval_at(Instant::now() + lease_for / 3, lease_for / 3);
        loop {
            tick.tick().await;
            if let LeaseAnswer::Wait(_) = sink.lease(&source.name, lease_for).await {
                tracing::warn!(source = %source.name, "the lease of this source was lost during its pass");
            }
        }
    };
    tokio::select! {
        _ = pass => {}
        _ = renew => {}
    }
    let next_due = wall_start + chrono::Duration::from_std(next_in).unwrap_or(chrono::Duration::minutes(30));
    sink.release(&source.name, next_due).await;
    Ran::Polled { started, next_in }
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
