//! Real Ethereum clients, unchanged, against a running chain (issue "JSON-RPC"): the
//! libraries are installed from their registries by `scripts/test.sh` into `tests/clients`.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Net, python};
use jinlian_crypto::{CryptoSuite, KeyPair};
use std::path::PathBuf;
use std::process::Command;

fn clients_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/clients")
}

fn artifact(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../../contracts/artifacts/{name}.json"))
}

/// Runs a client script; panics with its output unless it passed.
fn run(program: &str, args: &[String], passed: &str) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(clients_dir())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} (scripts/test.sh installs it): {e}"));
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && text.contains(passed), "{program} {args:?} failed:\n{text}");
    text
}

#[test]
fn ethers_js_deploys_transfers_reads_events_and_follows_blocks_over_websocket() {
    assert!(
        clients_dir().join("node_modules/ethers").exists(),
        "ethers.js is not installed: run `npm ci` in tests/clients (scripts/test.sh does)"
    );
    let net = Net::start_with(4, 1, CryptoSuite::Ecdsa, 0);
    let key = KeyPair::from_secret(CryptoSuite::Ecdsa, &[0x51; 32]).unwrap();
    let rpc = net.nodes[0].rpc;
    let out = run(
        "node",
        &[
            "ethers.mjs".into(),
            format!("http://{rpc}"),
            format!("ws://{rpc}"),
            format!("0x{}", alloy_primitives::hex::encode(key.secret().0)),
            artifact("TestToken").display().to_string(),
        ],
        "all ethers.js checks passed",
    );
    assert!(out.contains("ok: revert reason: allowance too low"), "{out}");
    net.assert_no_fork();
}

#[test]
fn a_fisco_style_client_signs_consortium_transactions_with_independent_libraries() {
    let net = Net::start_with(4, 0, CryptoSuite::Ecdsa, 0);
    let key = KeyPair::from_secret(CryptoSuite::Ecdsa, &[0x54; 32]).unwrap();
    let rpc = net.nodes[3].rpc;
    run(
        &python(),
        &[
            "fisco_client.py".into(),
            format!("http://{rpc}"),
            alloy_primitives::hex::encode(key.secret().0),
            net.chain_id.to_string(),
            artifact("TestToken").display().to_string(),
        ],
        "all FISCO client checks passed",
    );
    net.assert_no_fork();
}

#[test]
fn web3_py_deploys_transfers_reads_logs_and_polls_filters() {
    let net = Net::start_with(4, 0, CryptoSuite::Ecdsa, 0);
    let key = KeyPair::from_secret(CryptoSuite::Ecdsa, &[0x52; 32]).unwrap();
    let rpc = net.nodes[1].rpc;
    run(
        &python(),
        &[
            "web3_client.py".into(),
            format!("http://{rpc}"),
            format!("0x{}", alloy_primitives::hex::encode(key.secret().0)),
            artifact("TestToken").display().to_string(),
        ],
        "all web3.py checks passed",
    );
    net.assert_no_fork();
}

#[test]
fn cast_reads_blocks_sends_calls_and_reads_receipts_and_logs() {
    let cast = clients_dir().join("node_modules/@foundry-rs/cast-linux-amd64/bin/cast");
    assert!(
        cast.exists(),
        "cast is not installed: run `npm ci` in tests/clients (scripts/test.sh does)"
    );
    let cast = cast.display().to_string();
    let net = Net::start_with(4, 0, CryptoSuite::Ecdsa, 0);
    let url = format!("http://{}", net.nodes[2].rpc);
    let key = KeyPair::from_secret(CryptoSuite::Ecdsa, &[0x53; 32]).unwrap();
    let pk = format!("0x{}", alloy_primitives::hex::encode(key.secret().0));
    let cast_run = |args: &[&str]| -> String {
        // Options before the positional arguments: `send --create` takes the rest as
        // constructor arguments.
        let out = Command::new(&cast)
            .arg(args[0])
            .args(["--rpc-url", &url])
            .args(&args[1..])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "cast {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(cast_run(&["chain-id"]), net.chain_id.to_string());
    let n: u64 = cast_run(&["block-number"]).parse().unwrap();
    assert!(n <= net.height(2).unwrap());

    let text = std::fs::read_to_string(artifact("TestToken")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let code = v["bytecode"].as_str().unwrap();
    let deployed = cast_run(&[
        "send",
        "--private-key",
        &pk,
        "--json",
        "--create",
        code,
        "constructor(uint256)",
        "1000",
    ]);
    let receipt: serde_json::Value = serde_json::from_str(&deployed).unwrap();
    assert_eq!(receipt["status"], "0x1", "{receipt}");
    let token = receipt["contractAddress"].as_str().unwrap().to_string();

    let other = "0x7777777777777777777777777777777777777777";
    let sent = cast_run(&[
        "send",
        "--private-key",
        &pk,
        "--json",
        &token,
        "transfer(address,uint256)",
        other,
        "25",
    ]);
    let sent: serde_json::Value = serde_json::from_str(&sent).unwrap();
    assert_eq!(sent["status"], "0x1", "{sent}");
    let hash = sent["transactionHash"].as_str().unwrap();
    assert_eq!(cast_run(&["call", &token, "balanceOf(address)(uint256)", other]), "25");
    let r: serde_json::Value =
        serde_json::from_str(&cast_run(&["receipt", "--json", hash])).unwrap();
    assert_eq!(r["blockHash"], sent["blockHash"]);
    assert_eq!(r["logs"].as_array().unwrap().len(), 1);
    let logs = cast_run(&[
        "logs",
        "--json",
        "--from-block",
        "0",
        "--address",
        &token,
        "Transfer(address indexed from,address indexed to,uint256 value)",
    ]);
    let logs: serde_json::Value = serde_json::from_str(&logs).unwrap();
    let logs = logs.as_array().unwrap();
    assert_eq!(logs.len(), 2, "{logs:?}");
    assert_eq!(logs[1]["transactionHash"], hash);
    // A revert is reported with its reason.
    let out = Command::new(&cast)
        .args(["call", "--rpc-url", &url])
        .args([&token, "transferFrom(address,address,uint256)", other, &token, "1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("allowance too low"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    net.assert_no_fork();
}
