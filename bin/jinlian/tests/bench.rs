//! `jinlian bench` end to end against real node processes (issue "bench and the first
//! performance pass"): the report's figures, an overloaded node answering "busy" while every
//! transfer it took still commits, the calibration, and the anvil baseline.

#![allow(clippy::unwrap_used)]

mod common;

use common::Net;
use jinlian_crypto::CryptoSuite;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn bench(args: &[&str]) -> (Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("report.json");
    let out = Command::new(env!("CARGO_BIN_EXE_jinlian"))
        .arg("bench")
        .args(args)
        .args(["--out", out_file.to_str().unwrap(), "--stall-secs", "30"])
        .output()
        .unwrap();
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "jinlian bench {args:?} failed:\n{text}");
    let report = serde_json::from_str(&std::fs::read_to_string(&out_file).unwrap()).unwrap();
    (report, text)
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// A pool of 300 transactions and 1.5 s between blocks, 1,500 transfers as fast as they go:
/// the node must refuse most of them as "busy" at first, and every transfer the bench got in
/// (it retries busy answers) must commit — none refused for good, none lost.
#[test]
fn an_overloaded_node_answers_busy_and_commits_every_transfer_it_took() {
    let mut net = Net::generate_with(1, 0, CryptoSuite::Ecdsa, 1500);
    let cfg = net.nodes[0].dir.join("config.toml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    assert!(text.contains("max_txs = 100000"), "chain new writes the pool's limits:\n{text}");
    std::fs::write(&cfg, text.replace("max_txs = 100000", "max_txs = 300")).unwrap();
    net.start_node(0);
    net.wait_rpc(0);
    let url = format!("http://{}", net.nodes[0].rpc);
    let (r, text) = bench(&["--rpc", &url, "--txs", "1500", "--senders", "10", "--calibrate"]);
    assert_eq!(r["committed"], 1500, "{text}");
    assert_eq!(r["failed"]["refused"], 0, "{text}");
    assert_eq!(r["failed"]["reverted"], 0, "{text}");
    assert_eq!(r["failed"]["not_committed"], 0, "{text}");
    assert!(r["busy_retries"].as_u64().unwrap() > 0, "a pool of 300 never said busy:\n{text}");
    // 1,500 transfers through a 300-transaction pool take at least four blocks.
    assert!(r["blocks"].as_u64().unwrap() >= 4, "{text}");
    let (p50, p90, p99) = (f(&r["p50_ms"]), f(&r["p90_ms"]), f(&r["p99_ms"]));
    assert!(0.0 < p50 && p50 <= p90 && p90 <= p99 && p99 <= f(&r["max_ms"]), "{text}");
    let tps = f(&r["tps"]);
    assert!((tps - 1500.0 / f(&r["window_s"])).abs() < 1e-6 * tps, "{text}");
    // The node's own figures, read from its /metrics.
    let node = &r["nodes"][0];
    assert!(f(&node["cpu_cores"]) > 0.0 && f(&node["rss_mib"]) > 10.0, "{text}");
    assert!(f(&r["node_cpu_us_per_tx"]) > 0.0, "{text}");
    // The calibration: positive costs, the ceiling they give for one sealer, the efficiency.
    let c = &r["calibration"];
    let per_tx = f(&c["check_us"]) + f(&c["execute_us"]) + f(&c["store_us"]);
    assert!(f(&c["check_us"]) > 0.0 && f(&c["execute_us"]) > 0.0, "{text}");
    assert_eq!((c["sealers"].as_u64(), c["observers"].as_u64()), (Some(1), Some(0)));
    assert!((f(&c["per_tx_all_nodes_us"]) - per_tx).abs() < 1e-6, "{text}");
    let ceiling = f(&r["ceiling_tps"]);
    assert!((ceiling - f(&c["cores"]) * 1e6 / per_tx).abs() < 1e-3 * ceiling, "{text}");
    assert!((f(&r["efficiency"]) - tps / ceiling).abs() < 1e-9, "{text}");
    assert!(text.contains("busy answers retried"), "{text}");
    // The node is still up and the pool drained.
    let pending = common::rpc(net.nodes[0].rpc, "txpool_status", serde_json::json!([])).unwrap();
    assert_eq!(pending["pending"], "0x0");
}

fn anvil() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/clients/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil");
    assert!(
        p.exists(),
        "anvil is not installed: run `npm ci` in tests/clients (scripts/test.sh does)"
    );
    p
}

/// Four sealers and an observer, the hot mix, consortium transactions, and anvil running the
/// same workload in the same invocation.
#[test]
fn a_four_sealer_chain_runs_the_hot_mix_against_anvil() {
    let net = Net::start_with(4, 1, CryptoSuite::Ecdsa, 200);
    let urls: Vec<String> = net.nodes.iter().map(|n| format!("http://{}", n.rpc)).collect();
    let anvil = anvil();
    let (r, text) = bench(&[
        "--rpc",
        &urls.join(","),
        "--txs",
        "600",
        "--senders",
        "6",
        "--mix",
        "hot",
        "--baseline",
        "anvil",
        "--anvil-bin",
        anvil.to_str().unwrap(),
    ]);
    assert_eq!(r["committed"], 600, "{text}");
    assert_eq!(r["mix"], "hot");
    assert_eq!(r["envelope"], "eth");
    assert_eq!(r["nodes"].as_array().unwrap().len(), 5);
    let b = &r["baseline"];
    assert_eq!(b["name"], "anvil");
    assert_eq!(b["committed"], 600, "{text}");
    assert_eq!(b["failed"]["reverted"], 0, "{text}");
    assert!((f(&b["ratio"]) - f(&r["tps"]) / f(&b["tps"])).abs() < 1e-9, "{text}");
    assert!(text.contains("jinlian / anvil"), "{text}");
    // Nine in ten transfers paid one account (transfers j with j % 10 != 0), one token each.
    let hot = format!("0x70a08231{:0>64}", "40".repeat(20));
    let call = serde_json::json!([{"to": r["token"], "data": hot}, "latest"]);
    let balance = common::rpc(net.nodes[0].rpc, "eth_call", call).unwrap();
    assert_eq!(
        u64::from_str_radix(balance.as_str().unwrap().trim_start_matches("0x"), 16).unwrap(),
        540
    );
    // Consortium transactions (random id and block limit instead of nonces).
    let (r2, text2) =
        bench(&["--rpc", &urls[0], "--txs", "100", "--senders", "4", "--envelope", "consortium"]);
    assert_eq!(r2["committed"], 100, "{text2}");
    assert_eq!(r2["envelope"], "consortium");
}
