//! The checkers catch broken replicas: with a deliberately wrong rule, the simulator must find
//! a violation within a fixed number of seeds. (Run by `scripts/test.sh` with
//! `--features defects`.)

#![cfg(feature = "defects")]

use jinlian_sim::{Defects, SimConfig, run};

/// First failing seed in `0..limit` with broken replica rules, if any.
fn first_failure(
    defects: Defects,
    sealers: usize,
    byzantine: usize,
    limit: u64,
) -> Option<(u64, Vec<String>)> {
    first_failure_with(SimConfig { sealers, byzantine, defects, ..SimConfig::default() }, limit)
}

/// First failing seed in `0..limit` of `cfg`, if any.
fn first_failure_with(cfg: SimConfig, limit: u64) -> Option<(u64, Vec<String>)> {
    (0..limit).find_map(|seed| {
        let r = run(&SimConfig { seed, ..cfg.clone() });
        (!r.passed()).then_some((seed, r.violations))
    })
}

#[test]
fn a_quorum_of_f_plus_1_is_caught() {
    let defects = Defects { quorum_f_plus_1: true, ..Defects::default() };
    let (seed, violations) =
        first_failure(defects, 4, 1, 40).expect("no seed in 0..40 caught f+1 quorums");
    assert!(
        violations.iter().any(|v| v.starts_with("agreement") || v.starts_with("certificate")),
        "seed {seed}: {violations:?}"
    );
}

#[test]
fn ignoring_prepared_certificates_in_new_view_is_caught() {
    let defects = Defects { ignore_prepared_in_new_view: true, ..Defects::default() };
    let (seed, violations) = first_failure(defects, 4, 1, 200)
        .expect("no seed in 0..200 caught the lost prepared block");
    assert!(violations.iter().any(|v| v.starts_with("agreement")), "seed {seed}: {violations:?}");
}

#[test]
fn restarting_without_the_wal_is_caught_as_a_double_vote() {
    let cfg = SimConfig { lose_wal_on_restart: true, byzantine: 1, ..SimConfig::default() };
    let (seed, violations) =
        first_failure_with(cfg, 300).expect("no seed in 0..300 caught a lost WAL");
    assert!(
        violations.iter().any(|v| v.starts_with("double vote") || v.starts_with("agreement")),
        "seed {seed}: {violations:?}"
    );
}

#[test]
fn the_correct_replica_passes_the_same_seeds() {
    assert_eq!(first_failure(Defects::default(), 4, 1, 40), None);
}
