//! Real Ethereum clients, unchanged, against a running chain (issue "JSON-RPC"): the
//! libraries are installed from their registries by `scripts/test.sh` into `tests/clients`.

#![allow(clippy::unwrap_used)]

mod common;

use common::Net;
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
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
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
