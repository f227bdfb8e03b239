//! Consensus cost by group size: simulated commits per wall-clock second, CPU per block (no
//! execution: the simulator's stand-in state machine is a hash), and messages per block, for
//! 4, 7, 16 and 31 sealers on a clean network.
//!
//! `cargo bench -p jinlian-sim`; figures go to docs/PERFORMANCE.md.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use jinlian_sim::{Faults, SimConfig, run};
use std::time::Instant;

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    println!(
        "{:>7} {:>7} {:>14} {:>15} {:>15} {:>14}",
        "sealers", "blocks", "commits/s", "ms CPU/block", "msgs/block", "msgs/(n²)"
    );
    for n in [4usize, 7, 16, 31] {
        let cfg = SimConfig {
            seed: 1,
            sealers: n,
            byzantine: 0,
            faults: Faults::default(),
            txs: 400,
            safety_ms: 60_000,
            ..SimConfig::default()
        };
        let t = Instant::now();
        let r = run(&cfg);
        let secs = t.elapsed().as_secs_f64();
        assert!(r.passed(), "{:?}", r.violations);
        let blocks = r.min_height.max(1);
        let per_block = r.messages as f64 / blocks as f64;
        println!(
            "{:>7} {:>7} {:>14.0} {:>15.2} {:>15.0} {:>14.2}",
            n,
            blocks,
            r.commits as f64 / secs,
            secs * 1e3 / blocks as f64,
            per_block,
            per_block / (n * n) as f64,
        );
    }
}
