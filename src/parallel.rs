//! The one helper for work split over the cores: reports and exports scan
//! the enrolments in parts, one per worker, and merge the results.
//!
//! Plain scoped threads, bounded by the machine's parallelism (and by the
//! number of parts the caller can use), so a scan never starts more
//! threads than there are cores and nothing outlives the call.

use crate::error::{Error, Result};

/// How many workers a scan should use: the cores available, at most `max`.
pub fn workers(max: usize) -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, max.max(1))
}

/// Run `f(0, inputs[0]) .. f(n - 1, inputs[n - 1])`, the first on the
/// calling thread and the others on threads of their own, each taking its
/// input by value (a database connection, which must not be shared between
/// threads), and return the results in input order. The first error (or a
/// panic in a worker, as an error) is returned.
pub fn run_each<I: Send, T: Send>(
    inputs: Vec<I>,
    f: impl Fn(usize, I) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    let mut inputs = inputs.into_iter();
    let Some(first) = inputs.next() else {
        return Ok(Vec::new());
    };
    std::thread::scope(|sc| {
        let f = &f;
        let handles: Vec<_> = inputs
            .enumerate()
            .map(|(i, input)| sc.spawn(move || f(i + 1, input)))
            .collect();
        let mut out = Vec::with_capacity(handles.len() + 1);
        out.push(f(0, first));
        for h in handles {
            out.push(
                h.join()
                    .unwrap_or_else(|_| Err(Error::Database("a worker thread panicked".into()))),
            );
        }
        out.into_iter().collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_come_back_in_order_and_errors_propagate() {
        let v = run_each(vec![1, 2, 3, 4], |i, x| Ok(i * 10 + x)).unwrap();
        assert_eq!(v, vec![1, 12, 23, 34]);
        let e = run_each(vec![(); 3], |i, ()| {
            if i == 2 {
                Err(crate::invalid!("part {i} failed"))
            } else {
                Ok(i)
            }
        });
        assert_eq!(e.unwrap_err().to_string(), "part 2 failed");
        assert!(workers(1) == 1 && workers(64) >= 1);
    }
}
