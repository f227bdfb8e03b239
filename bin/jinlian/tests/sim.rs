//! `jinlian sim` as a user runs it.

#![allow(clippy::unwrap_used)]

use std::process::Command;

fn jinlian(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_jinlian")).args(args).output().unwrap()
}

#[test]
fn a_sweep_prints_one_line_per_seed_and_a_summary() {
    let out = jinlian(&["sim", "--seeds", "0..3", "--sealers", "4", "--faults", "drop,crash"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    for (i, line) in lines[..3].iter().enumerate() {
        assert!(line.starts_with(&format!("seed={i} sealers=4 byzantine=1")), "{line}");
        assert!(line.ends_with("PASS"), "{line}");
    }
    assert!(lines[3].starts_with("3 runs, 0 failed"), "{}", lines[3]);
}

#[test]
fn the_same_seed_gives_the_same_trace_hash() {
    let a = jinlian(&["sim", "--seed", "11", "--trace"]);
    let b = jinlian(&["sim", "--seed", "11", "--trace"]);
    let c = jinlian(&["sim", "--seed", "12", "--trace"]);
    assert!(a.status.success());
    let a = String::from_utf8(a.stdout).unwrap();
    assert!(a.starts_with("seed=11 trace=0x"), "{a}");
    assert_eq!(a, String::from_utf8(b.stdout).unwrap());
    assert_ne!(a.split('=').nth(2), String::from_utf8(c.stdout).unwrap().split('=').nth(2));
}

#[test]
fn too_many_byzantine_replicas_fail_with_the_seed_to_replay() {
    // Two of four sealers Byzantine is beyond f = 1: some seed must break a property, and
    // the command says which seed and exits non-zero.
    let out = jinlian(&["sim", "--seeds", "0..20", "--sealers", "4", "--byzantine", "2"]);
    assert!(!out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("SIM_SEED="), "{text}");
    assert!(text.contains("violation:"), "{text}");
}

#[test]
fn bad_arguments_are_refused_with_a_reason() {
    for (args, needle) in [
        (vec!["sim", "--seeds", "5..5"], "empty seed range"),
        (vec!["sim", "--seeds", "x..3"], "not a whole number"),
        (vec!["sim", "--faults", "meteor"], "unknown fault"),
        (vec!["sim", "--sealers", "0"], "at least 1"),
    ] {
        let out = jinlian(&args);
        assert!(!out.status.success(), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(needle), "{args:?}");
    }
}
