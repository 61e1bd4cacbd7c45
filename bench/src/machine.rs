//! How quiet the machine is: the latency rows are only as good as the cores they run on. One
//! busy thread per core reads the clock for a few seconds; a jump of a millisecond or more means
//! its core was taken away meanwhile (by another process, the kernel or, in a virtual machine,
//! the hypervisor). On a quiet machine no such jump reaches 2 ms. And what the kernel charges
//! for one small loopback TCP frame today, since that is most of a progress frame's cost.

use crate::report::{Report, Verdict, ms};
use std::io::{Read, Write};
use std::time::{Duration, Instant};

/// The shortest gap counted as a stall.
const STALL: Duration = Duration::from_millis(1);

/// The size of the loopback frame timed, about one progress event's.
const FRAME: usize = 200;

/// How many loopback frames are timed.
const FRAMES: u32 = 20_000;

/// What one busy thread saw.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Stalls {
    count: usize,
    total: Duration,
    longest: Duration,
    /// Stalls of 2 ms or more.
    long: usize,
}

impl Stalls {
    fn add(&mut self, gap: Duration) {
        if gap < STALL {
            return;
        }
        self.count += 1;
        self.total += gap;
        self.longest = self.longest.max(gap);
        if gap >= 2 * STALL {
            self.long += 1;
        }
    }

    fn merge(self, other: Stalls) -> Stalls {
        Stalls {
            count: self.count + other.count,
            total: self.total + other.total,
            longest: self.longest.max(other.longest),
            long: self.long + other.long,
        }
    }
}

/// Reads the clock without pause for `duration` and counts the gaps between two readings.
fn busy_loop(duration: Duration) -> Stalls {
    let start = Instant::now();
    let mut stalls = Stalls::default();
    let mut previous = start;
    loop {
        let now = Instant::now();
        stalls.add(now - previous);
        previous = now;
        if now - start >= duration {
            return stalls;
        }
    }
}

/// What one small write over loopback TCP costs on this machine now, read at the other end in
/// the same thread (no wake-ups): the kernel's share of every progress frame over HTTP/1.1, so
/// runs on a faster or slower day can be told apart.
fn loopback_write_and_read() -> std::io::Result<Duration> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    let mut sender = std::net::TcpStream::connect(listener.local_addr()?)?;
    let (mut receiver, _) = listener.accept()?;
    sender.set_nodelay(true)?;
    let frame = [b'x'; FRAME];
    let mut read = [0; FRAME];
    let start = Instant::now();
    for _ in 0..FRAMES {
        sender.write_all(&frame)?;
        receiver.read_exact(&mut read)?;
    }
    Ok(start.elapsed() / FRAMES)
}

pub fn run(report: &mut Report, duration: Duration) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    eprintln!("==> machine: one busy thread per core for {duration:?}");
    let stalls = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..cores)
            .map(|_| scope.spawn(|| busy_loop(duration)))
            .collect();
        threads
            .into_iter()
            .map(|thread| thread.join().unwrap_or_default())
            .fold(Stalls::default(), Stalls::merge)
    });
    let core_seconds = duration.as_secs_f64() * cores as f64;
    report.add(
        "machine: cores taken away",
        format!(
            "one thread per core ({cores}) reading the clock for {} s before the timed sections; a gap of 1 ms or more counts as a stall",
            duration.as_secs()
        ),
        format!(
            "{} stalls ({:.1} per core-second), {} of 2 ms or more, longest {}; {:.2} % of the time",
            stalls.count,
            stalls.count as f64 / core_seconds,
            stalls.long,
            ms(stalls.longest),
            stalls.total.as_secs_f64() / core_seconds * 100.0
        ),
        "- (quiet: no stall of 2 ms)",
        Verdict::Info,
    );
    match loopback_write_and_read() {
        Ok(cost) => report.add(
            "machine: one loopback TCP frame",
            format!(
                "a {FRAME}-byte write on a loopback TCP connection and its read at the other end, in one thread, {FRAMES} times"
            ),
            format!("{:.1} µs", cost.as_secs_f64() * 1e6),
            "-",
            Verdict::Info,
        ),
        Err(e) => report.not_measured(
            "machine: one loopback TCP frame",
            "",
            "",
            format!("failed: {e}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_gaps_of_a_millisecond_or_more_count_as_stalls() {
        let mut stalls = Stalls::default();
        for gap_us in [50, 999, 1_000, 2_500, 4_000] {
            stalls.add(Duration::from_micros(gap_us));
        }
        assert_eq!(
            stalls,
            Stalls {
                count: 3,
                total: Duration::from_micros(7_500),
                longest: Duration::from_micros(4_000),
                long: 2,
            }
        );
    }
}
