//! The simulator against the real replica: clean runs, faulty runs, determinism.

use jinlian_sim::{Faults, SimConfig, run};

#[test]
fn clean_network_commits_everything() {
    let r = run(&SimConfig { seed: 1, faults: Faults::default(), ..SimConfig::default() });
    assert!(r.passed(), "{:?}", r.violations);
    assert!(r.all_committed_ms.is_some());
    assert!(r.min_height >= 5, "{r:?}");
    assert_eq!(r.view_changes, 0, "no faults, no view changes: {r:?}");
}

#[test]
fn same_seed_same_trace() {
    let cfg = SimConfig { seed: 42, byzantine: 1, ..SimConfig::default() };
    let a = run(&cfg);
    let b = run(&cfg);
    assert_eq!(a, b);
    let c = run(&SimConfig { seed: 43, ..cfg });
    assert_ne!(a.trace_hash, c.trace_hash);
}

/// The CI sweep: 300 seeds each for 4 and 7 sealers with f Byzantine replicas and every
/// fault. The long sweep (10,000+ seeds) is `jinlian sim`; see docs/CONSENSUS.md.
#[test]
fn sweep_300_seeds_for_4_and_7_sealers_with_f_byzantine() {
    for (sealers, byzantine) in [(4, 1), (7, 2)] {
        let failed: Vec<(u64, Vec<String>)> = (0..300)
            .map(|seed| run(&SimConfig { seed, sealers, byzantine, ..SimConfig::default() }))
            .filter(|r| !r.passed())
            .map(|r| (r.seed, r.violations))
            .collect();
        assert!(
            failed.is_empty(),
            "n={sealers} byzantine={byzantine}: SIM_SEED of failures: {failed:?}"
        );
    }
}

#[test]
fn sm_chains_reach_agreement_too() {
    let r =
        run(&SimConfig { seed: 3, suite: jinlian_crypto::CryptoSuite::Sm, ..SimConfig::default() });
    assert!(r.passed(), "{:?}", r.violations);
}
