//! Bounded parallelism on plain threads: a fixed number of workers pull jobs from a shared
//! counter inside `std::thread::scope`, so jobs may borrow from the caller. Every job here
//! talks to a device or a service, so the workers are also bounded by the open files the
//! process may hold.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Files kept for the database, the log, the lock and the standard streams.
const FILES_RESERVED: u64 = 64;

/// Raises the soft limit on open files to the hard one (SPEC §24: 1,024 connections by
/// default, where a login shell often allows 1,024 files in all). Call once, at start.
pub fn raise_open_file_limit() {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit on this process with a valid pointer.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// How many connections the open-file limit leaves room for.
pub fn room_for_connections() -> usize {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit on this process with a valid pointer.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 || limit.rlim_cur == libc::RLIM_INFINITY {
        return usize::MAX;
    }
    usize::try_from(limit.rlim_cur.saturating_sub(FILES_RESERVED)).unwrap_or(usize::MAX)
}

/// How many workers the open-file limit leaves room for, each holding up to two connections.
fn room_for_workers() -> usize {
    room_for_connections() / 2
}

/// The threads that CPU-bound work can use at once.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// Runs `work` on every item with at most `concurrency` threads; results keep item order.
pub fn map<T: Sync, R: Send>(items: &[T], concurrency: usize, work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = concurrency.min(room_for_workers()).clamp(1, items.len().max(1));
    if workers == 1 {
        return items.iter().map(&work).collect();
    }
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    let pull = || {
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(index) else { break };
            let result = work(item);
            if let Ok(mut results) = results.lock() {
                results[index] = Some(result);
            }
        }
    };
    std::thread::scope(|scope| {
        // This thread is a worker too, so every item is done even when the system refuses
        // more threads (a spawn that fails is not a panic).
        for _ in 1..workers {
            if std::thread::Builder::new().spawn_scoped(scope, pull).is_err() {
                break;
            }
        }
        pull();
    });
    results.into_inner().unwrap_or_default().into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_bounds_threads() {
        let items: Vec<u64> = (0..200).collect();
        let running = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        let out = map(&items, 8, |x| {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(std::time::Duration::from_millis(1));
            running.fetch_sub(1, Ordering::SeqCst);
            x * 2
        });
        assert_eq!(out, items.iter().map(|x| x * 2).collect::<Vec<_>>());
        assert!(peak.load(Ordering::SeqCst) <= 8);
    }

    #[test]
    fn empty_input() {
        let out: Vec<u8> = map(&[] as &[u8], 4, |x| *x);
        assert!(out.is_empty());
    }
}
