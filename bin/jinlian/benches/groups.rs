//! Aggregate throughput of 1, 2 and 4 groups on the same 4 nodes under the same load (issue
//! "Groups and membership"): `JINLIAN_BENCH_TXS` (default 8,000) pre-signed value-free
//! transfers, split evenly over the groups (4 senders per group), submitted over 16 HTTP
//! connections spread over the 4 nodes; committed TPS from the first submission to the last
//! commit. Every group has the same 4 sealers, block interval 0.
//!
//! `cargo bench -p jinlian --bench groups`. Figures go to docs/PERFORMANCE.md.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

#[path = "../tests/common/mod.rs"]
mod common;

use alloy_primitives::{Address, TxKind, U256};
use common::{Net, env_u64 as env};
use jinlian_crypto::{CryptoSuite, KeyPair};
use jinlian_sdk::Client;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const SENDERS: u64 = 4;
const CONNECTIONS: usize = 16;

fn run(groups: u32, total: u64) -> f64 {
    let mut net = Net::generate_with(4, 0, CryptoSuite::Ecdsa, 0);
    let chain = net.chain_dir();
    for g in 2..=groups {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_jinlian"))
            .args(["chain", "add-group", "--dir", chain.to_str().unwrap()])
            .args(["--group", &g.to_string(), "--sealers", "node0,node1,node2,node3"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    for i in 0..4 {
        net.start_node(i);
    }
    for i in 0..4 {
        net.wait_rpc(i);
    }
    let per_group = total / u64::from(groups);
    let per_sender = per_group / SENDERS;
    // Pre-sign everything: (group, raw tx), interleaved so every group gets load at once.
    let mut keys = Vec::new();
    let mut signed: Vec<Vec<(u32, String)>> = Vec::new();
    for g in 1..=groups {
        let chain_id = net.chain_id + u64::from(g) - 1;
        for s in 0..SENDERS {
            let key =
                KeyPair::from_secret(CryptoSuite::Ecdsa, &[(g * 16 + s as u32) as u8 + 1; 32])
                    .unwrap();
            let txs = (0..per_sender)
                .map(|nonce| {
                    let tx = jinlian_sdk::tx::ethereum(
                        &key,
                        chain_id,
                        nonce,
                        TxKind::Call(Address::repeat_byte(0x42)),
                        U256::ZERO,
                        Vec::<u8>::new(),
                        21_000,
                    )
                    .unwrap();
                    (g, format!("0x{}", alloy_primitives::hex::encode(tx.encoded())))
                })
                .collect();
            signed.push(txs);
            keys.push((g, key.address()));
        }
    }
    // Connection c sends the transactions of senders c, c + 16, … (a sender's nonces stay
    // in order on one connection).
    let urls: Vec<String> = net.nodes.iter().map(|n| format!("http://{}", n.rpc)).collect();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let elapsed = rt.block_on(async {
        let start = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..CONNECTIONS {
            let mine: Vec<Vec<(u32, String)>> =
                signed.iter().skip(c).step_by(CONNECTIONS).cloned().collect();
            let url = urls[c % urls.len()].clone();
            tasks.push(tokio::spawn(async move {
                let mut clients = std::collections::HashMap::new();
                for txs in mine {
                    for (g, raw) in txs {
                        if let std::collections::hash_map::Entry::Vacant(e) = clients.entry(g) {
                            e.insert(Client::connect(&format!("{url}/group/{g}")).await.unwrap());
                        }
                        let client = &clients[&g];
                        let _: Value = client
                            .request("eth_sendRawTransaction", vec![json!(raw)])
                            .await
                            .unwrap();
                    }
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        // Done when every sender's nonce has reached its count in every group.
        let mut clients = std::collections::HashMap::new();
        for g in 1..=groups {
            clients.insert(g, Client::connect(&format!("{}/group/{g}", urls[0])).await.unwrap());
        }
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            let mut done = true;
            for (g, who) in &keys {
                let n: String = clients[g]
                    .request("eth_getTransactionCount", vec![json!(who), json!("latest")])
                    .await
                    .unwrap();
                if u64::from_str_radix(n.trim_start_matches("0x"), 16).unwrap() < per_sender {
                    done = false;
                    break;
                }
            }
            if done {
                break;
            }
            assert!(Instant::now() < deadline, "the load did not commit in time");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        start.elapsed()
    });
    let committed = per_sender * SENDERS * u64::from(groups);
    for i in 0..4 {
        net.stop(i);
    }
    committed as f64 / elapsed.as_secs_f64()
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let total = env("JINLIAN_BENCH_TXS", 8_000);
    println!(
        "groups/throughput: 4 nodes (all sealers of every group), {total} transfers split over the groups, {CONNECTIONS} connections"
    );
    let mut base = None;
    for groups in [1u32, 2, 4] {
        let tps = run(groups, total);
        let b = *base.get_or_insert(tps);
        println!("  {groups} group(s): {tps:.0} TPS aggregate ({:.2}x one group)", tps / b);
    }
}
