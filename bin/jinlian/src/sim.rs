//! `jinlian sim`: seed sweeps of the deterministic simulator.

use anyhow::{Context, Result, bail};
use jinlian_crypto::CryptoSuite;
use jinlian_sim::{Faults, SimConfig, SimReport};
use std::io::Write;

/// Command-line arguments of `jinlian sim`.
pub struct Args {
    pub seeds: String,
    pub seed: Option<u64>,
    pub sealers: usize,
    pub byzantine: Option<usize>,
    pub faults: String,
    pub txs: usize,
    pub sm: bool,
    pub trace: bool,
}

fn parse_seeds(text: &str) -> Result<std::ops::Range<u64>> {
    let parse = |s: &str| {
        s.trim().parse::<u64>().with_context(|| format!("seed {s:?} is not a whole number"))
    };
    match text.split_once("..") {
        Some((a, b)) => {
            let (a, b) = (parse(a)?, parse(b)?);
            if b <= a {
                bail!("empty seed range {text:?}: write A..B with B greater than A");
            }
            Ok(a..b)
        }
        None => {
            let a = parse(text)?;
            Ok(a..a.saturating_add(1))
        }
    }
}

pub fn run(args: Args) -> Result<()> {
    let seeds = match args.seed {
        Some(s) => s..s.saturating_add(1),
        None => parse_seeds(&args.seeds)?,
    };
    if args.sealers == 0 {
        bail!("--sealers must be at least 1");
    }
    let f = (args.sealers - 1) / 3;
    let byzantine = args.byzantine.unwrap_or(f);
    if byzantine > args.sealers {
        bail!("--byzantine {byzantine} is more than --sealers {}", args.sealers);
    }
    let faults: Faults = args.faults.parse().map_err(anyhow::Error::msg)?;
    let base = SimConfig {
        sealers: args.sealers,
        byzantine,
        faults,
        txs: args.txs,
        suite: if args.sm { CryptoSuite::Sm } else { CryptoSuite::Ecdsa },
        ..SimConfig::default()
    };

    // Seeds are independent: run them on every core, print in seed order.
    let list: Vec<u64> = seeds.clone().collect();
    let threads =
        std::thread::available_parallelism().map_or(1, |n| n.get()).min(list.len().max(1));
    let started = std::time::Instant::now();
    let mut reports: Vec<SimReport> = Vec::with_capacity(list.len());
    for chunk in list.chunks(threads * 8) {
        let results: Vec<SimReport> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let base = base.clone();
                    let mine: Vec<u64> = chunk.iter().copied().skip(t).step_by(threads).collect();
                    scope.spawn(move || {
                        mine.into_iter()
                            .map(|seed| run_one(&SimConfig { seed, ..base.clone() }))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            let mut all: Vec<SimReport> =
                handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect();
            all.sort_by_key(|r| r.seed);
            all
        });
        let mut out = std::io::stdout().lock();
        for r in &results {
            print_report(&mut out, r, &base, args.trace)?;
        }
        reports.extend(results);
    }
    let failed: Vec<u64> = reports.iter().filter(|r| !r.passed()).map(|r| r.seed).collect();
    let commits: u64 = reports.iter().map(|r| r.commits).sum();
    let secs = started.elapsed().as_secs_f64();
    if reports.len() != list.len() {
        bail!("a simulation thread panicked: {} of {} runs reported", reports.len(), list.len());
    }
    if !args.trace {
        println!(
            "{} runs, {} failed ({} sealers, {byzantine} byzantine, faults {faults}); {commits} commits in {secs:.1} s ({:.0} commits/s)",
            reports.len(),
            failed.len(),
            args.sealers,
            commits as f64 / secs.max(1e-9),
        );
    }
    if !failed.is_empty() {
        bail!("{} run(s) failed: seeds {failed:?}", failed.len());
    }
    Ok(())
}

/// One run; a panic (a replica assertion, say) is a failed run, not a crashed sweep.
fn run_one(cfg: &SimConfig) -> SimReport {
    std::panic::catch_unwind(|| jinlian_sim::run(cfg)).unwrap_or_else(|e| {
        let why = e
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "unknown panic".into());
        SimReport {
            seed: cfg.seed,
            violations: vec![format!("panic: {why}")],
            ..SimReport::default()
        }
    })
}

fn print_report(
    out: &mut impl Write,
    r: &SimReport,
    cfg: &SimConfig,
    trace_only: bool,
) -> Result<()> {
    if trace_only {
        writeln!(out, "seed={} trace={}", r.seed, r.trace_hash)?;
    } else {
        writeln!(
            out,
            "seed={} sealers={} byzantine={} heights={}..{} commits={} messages={} view_changes={} faults_reported={} done_at_ms={} {}",
            r.seed,
            cfg.sealers,
            cfg.byzantine,
            r.min_height,
            r.max_height,
            r.commits,
            r.messages,
            r.view_changes,
            r.faults_reported,
            r.all_committed_ms.map_or("-".to_string(), |t| t.to_string()),
            if r.passed() { "PASS" } else { "FAIL" },
        )?;
    }
    if !r.passed() {
        for v in &r.violations {
            writeln!(out, "  violation: {v}")?;
        }
        writeln!(out, "SIM_SEED={}", r.seed)?;
    }
    Ok(())
}
