//! The table the command prints: one row per figure, with its parameters, its target and whether
//! the figure met it.

use std::time::Duration;

/// Whether a figure met its target.
#[derive(Clone, Debug)]
pub enum Verdict {
    Met,
    Missed,
    /// A figure reported for information, without a target.
    Info,
    NotMeasured(String),
}

impl Verdict {
    pub fn of(met: bool) -> Verdict {
        if met { Verdict::Met } else { Verdict::Missed }
    }

    fn text(&self) -> String {
        match self {
            Verdict::Met => "met".into(),
            Verdict::Missed => "missed".into(),
            Verdict::Info => "-".into(),
            Verdict::NotMeasured(reason) => format!("not measured: {reason}"),
        }
    }
}

/// One line of the table.
#[derive(Clone, Debug)]
pub struct Row {
    pub figure: String,
    pub parameters: String,
    pub result: String,
    pub target: String,
    pub verdict: Verdict,
}

/// The rows gathered so far, in the order they were measured.
#[derive(Default)]
pub struct Report {
    rows: Vec<Row>,
}

impl Report {
    pub fn add(
        &mut self,
        figure: impl Into<String>,
        parameters: impl Into<String>,
        result: impl Into<String>,
        target: impl Into<String>,
        verdict: Verdict,
    ) {
        let row = Row {
            figure: figure.into(),
            parameters: parameters.into(),
            result: result.into(),
            target: target.into(),
            verdict,
        };
        eprintln!("  {}: {} ({})", row.figure, row.result, row.verdict.text());
        self.rows.push(row);
    }

    /// A figure that could not be measured, and why.
    pub fn not_measured(
        &mut self,
        figure: impl Into<String>,
        parameters: impl Into<String>,
        target: impl Into<String>,
        reason: impl Into<String>,
    ) {
        self.add(
            figure,
            parameters,
            "-",
            target,
            Verdict::NotMeasured(reason.into()),
        );
    }

    /// True when every figure with a target was measured and met it.
    pub fn all_met(&self) -> bool {
        self.rows
            .iter()
            .all(|row| matches!(row.verdict, Verdict::Met | Verdict::Info))
    }

    /// True when a section could not be measured.
    pub fn has_failures(&self) -> bool {
        self.rows
            .iter()
            .any(|row| matches!(row.verdict, Verdict::NotMeasured(_)))
    }

    /// The table as Markdown, so it can be pasted into a README or an issue as it is.
    pub fn to_markdown(&self) -> String {
        let header = ["figure", "parameters", "result", "target", "verdict"];
        let cells: Vec<[String; 5]> = self
            .rows
            .iter()
            .map(|row| {
                [
                    row.figure.clone(),
                    row.parameters.clone(),
                    row.result.clone(),
                    row.target.clone(),
                    row.verdict.text(),
                ]
            })
            .collect();
        let mut widths = header.map(str::len);
        for line in &cells {
            for (width, cell) in widths.iter_mut().zip(line) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let render = |line: &[String]| {
            let padded: Vec<String> = line
                .iter()
                .zip(widths)
                .map(|(cell, width)| format!("{cell:<width$}"))
                .collect();
            format!("| {} |\n", padded.join(" | "))
        };
        let mut out = render(&header.map(String::from));
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        out.push_str(&format!("|-{}-|\n", rule.join("-|-")));
        for line in &cells {
            out.push_str(&render(line));
        }
        out
    }
}

/// Sorted latency samples.
pub struct Samples(Vec<Duration>);

impl Samples {
    pub fn new(mut samples: Vec<Duration>) -> Samples {
        samples.sort_unstable();
        Samples(samples)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The nearest-rank percentile `q` (0 < q <= 100).
    pub fn percentile(&self, q: f64) -> Duration {
        if self.0.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((q / 100.0) * self.0.len() as f64).ceil() as usize;
        self.0[rank.clamp(1, self.0.len()) - 1]
    }

    pub fn max(&self) -> Duration {
        self.0.last().copied().unwrap_or_default()
    }

    /// How many samples are longer than `limit`.
    pub fn count_over(&self, limit: Duration) -> usize {
        self.0.len() - self.0.partition_point(|sample| *sample <= limit)
    }
}

/// A duration in milliseconds with three significant decimals.
pub fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.3} ms")
    } else if ms < 100.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// A size in MB (10^6 bytes) from kibibytes, as /proc reports them.
pub fn mb_from_kib(kib: u64) -> String {
    format!("{:.1} MB", kib as f64 * 1024.0 / 1e6)
}

/// A size in kB (1,000 bytes).
pub fn kb(bytes: usize) -> String {
    format!("{:.1} kB", bytes as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_count_only_what_is_strictly_over_the_limit() {
        let samples = Samples::new([12, 3, 10, 7, 15].map(Duration::from_millis).to_vec());
        assert_eq!(samples.count_over(Duration::from_millis(10)), 2);
        assert_eq!(samples.count_over(Duration::from_millis(15)), 0);
        assert_eq!(samples.count_over(Duration::ZERO), 5);
        assert_eq!(samples.percentile(50.0), Duration::from_millis(10));
        assert_eq!(samples.max(), Duration::from_millis(15));
    }
}
