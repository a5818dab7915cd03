//! Bounded parallelism on plain threads: a fixed number of workers pull jobs from a shared
//! counter inside `std::thread::scope`, so jobs may borrow from the caller.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs `work` on every item with at most `concurrency` threads; results keep item order.
pub fn map<T: Sync, R: Send>(items: &[T], concurrency: usize, work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = concurrency.clamp(1, items.len().max(1));
    if workers == 1 {
        return items.iter().map(&work).collect();
    }
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(index) else { break };
                    let result = work(item);
                    if let Ok(mut results) = results.lock() {
                        results[index] = Some(result);
                    }
                }
            });
        }
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
