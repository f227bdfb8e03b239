//! Aggregate throughput of 1, 2 and 4 groups on the same 4 nodes under the same load (issue
//! "Groups and membership"): `JINLIAN_BENCH_TXS` (default 8,000) pre-signed value-free
//! transfers, split evenly over the groups (16 senders in all, 16 / groups per group), submitted over 16 HTTP
//! connections spread over the 4 nodes; committed TPS from the first submission to the last
//! commit. Every group has the same 4 sealers, block interval 0.
//!
//! `cargo bench -p jinlian --bench groups`. Figures go to docs/PERFORMANCE.md.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::{Net, cpu_secs, env_u64 as env};
use jinlian_crypto::{CryptoSuite, KeyPair};
use jinlian_sdk::Client;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Senders in all unless `JINLIAN_BENCH_SENDERS` says otherwise, split evenly over the groups
/// (one connection each): the same load whatever the number of groups, and no sender more
/// than the pool's 1,000 nonces ahead.
const SENDERS: u64 = 16;
const CONNECTIONS: usize = 16;

/// (aggregate TPS, cores the nodes kept busy, transactions per block, view changes).
fn run(groups: u32, total: u64) -> (f64, f64, f64, f64) {
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
    let senders = (env("JINLIAN_BENCH_SENDERS", SENDERS) / u64::from(groups)).max(1);
    let per_sender = per_group / senders;
    let urls: Vec<String> = net.nodes.iter().map(|n| format!("http://{}", n.rpc)).collect();
    // Pre-sign everything: (group, raw tx), interleaved so every group gets load at once.
    let mut keys = Vec::new();
    let mut signed: Vec<Vec<(u32, String)>> = Vec::new();
    for g in 1..=groups {
        let chain_id = net.chain_id + u64::from(g) - 1;
        for s in 0..senders {
            let key =
                KeyPair::from_secret(CryptoSuite::Ecdsa, &[(g * 16 + s as u32) as u8 + 1; 32])
                    .unwrap();
            let txs = (0..per_sender)
                .map(|nonce| (g, common::plain_transfer(&key, chain_id, nonce)))
                .collect();
            signed.push(txs);
            keys.push((g, key.address()));
        }
    }
    // Connection c sends the transactions of senders c, c + 16, … (a sender's nonces stay
    // in order on one connection).
    warm_up(&net, groups);
    let changes_before = view_changes(&net);
    let pids: Vec<u32> = net.nodes.iter().map(|n| n.child.as_ref().unwrap().id()).collect();
    let cpu_before: f64 = pids.iter().map(|p| cpu_secs(*p)).sum();
    let heights_before: Vec<u64> = (1..=groups).map(|g| group_height(&urls[0], g)).collect();
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
    let cpu: f64 = pids.iter().map(|p| cpu_secs(*p)).sum::<f64>() - cpu_before;
    let blocks: u64 = (1..=groups)
        .zip(heights_before)
        .map(|(g, before)| group_height(&urls[0], g) - before)
        .sum();
    let committed = per_sender * senders * u64::from(groups);
    let addr: std::net::SocketAddr = urls[0].trim_start_matches("http://").parse().unwrap();
    let _ = addr;
    let view_changes = view_changes(&net) - changes_before;
    for i in 0..4 {
        net.stop(i);
    }
    // With JINLIAN_TEST_LOG=debug: what the nodes had to drop, by reason.
    let logs: String = (0..4).map(|i| net.log(i)).collect();
    if let Ok(keep) = std::env::var("JINLIAN_BENCH_KEEP_LOGS") {
        let run = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        for i in 0..4 {
            let _ = std::fs::create_dir_all(&keep);
            let _ = std::fs::write(format!("{keep}/g{groups}-{run}-node{i}.log"), net.log(i));
        }
    }
    let reasons = [
        "group this node does not run",
        "send queue full",
        "recovery is busy",
        "over budget",
        "view change",
    ];
    let counts: Vec<String> = reasons
        .iter()
        .map(|r| format!("{r}: {}", logs.lines().filter(|l| l.contains(r)).count()))
        .collect();
    if logs.contains("DEBUG") {
        println!("      log lines — {}", counts.join(", "));
    }
    let secs = elapsed.as_secs_f64();
    (committed as f64 / secs, cpu / secs, committed as f64 / blocks.max(1) as f64, view_changes)
}

/// View changes on all nodes so far (from their metrics): each is a consensus stall.
fn view_changes(net: &Net) -> f64 {
    net.nodes
        .iter()
        .map(|n| {
            let (_, _, text) = common::http(n.rpc, "GET", "/metrics", "").unwrap();
            text.lines()
                .filter(|l| l.starts_with("jinlian_consensus_view_changes_total"))
                .filter_map(|l| l.split_whitespace().last()?.parse::<f64>().ok())
                .sum::<f64>()
        })
        .sum()
}

/// One transaction per group, committed on every node: every group is connected and
/// agreeing before the clock starts.
fn warm_up(net: &Net, groups: u32) {
    let key = KeyPair::from_secret(CryptoSuite::Ecdsa, &[0xee; 32]).unwrap();
    for g in 1..=groups {
        let chain_id = net.chain_id + u64::from(g) - 1;
        let raw = common::plain_transfer(&key, chain_id, 0);
        let path = format!("/group/{g}");
        let hash = common::rpc_at(net.nodes[0].rpc, &path, "eth_sendRawTransaction", json!([raw]))
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(120);
        while !net.nodes.iter().all(|n| {
            common::rpc_at(n.rpc, &path, "eth_getTransactionReceipt", json!([hash]))
                .is_ok_and(|r| !r.is_null())
        }) {
            assert!(Instant::now() < deadline, "group {g} did not warm up");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn group_height(url: &str, g: u32) -> u64 {
    let addr: std::net::SocketAddr = url.trim_start_matches("http://").parse().unwrap();
    let h = common::rpc_at(addr, &format!("/group/{g}"), "eth_blockNumber", json!([])).unwrap();
    u64::from_str_radix(h.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let total = env("JINLIAN_BENCH_TXS", 8_000);
    println!(
        "groups/throughput: 4 nodes (all sealers of every group), {total} transfers split over the groups, {CONNECTIONS} connections"
    );
    let runs = env("JINLIAN_BENCH_RUNS", 3);
    let mut base = None;
    let configs: Vec<u32> = std::env::var("JINLIAN_BENCH_GROUPS")
        .ok()
        .map(|v| v.split(',').filter_map(|g| g.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 2, 4]);
    for groups in configs {
        let mut all = Vec::new();
        for _ in 0..runs {
            let (tps, cores, per_block, vc) = run(groups, total);
            println!(
                "    {groups} group(s): {tps:.0} TPS; {cores:.2} cores busy; {per_block:.1} txs/block; {vc:.0} view changes under load"
            );
            all.push(tps);
        }
        all.sort_by(f64::total_cmp);
        let median = all[all.len() / 2];
        let b = *base.get_or_insert(median);
        println!(
            "  {groups} group(s): median {median:.0} TPS aggregate ({:.2}x one group; runs {:.0}..{:.0})",
            median / b,
            all[0],
            all[all.len() - 1]
        );
    }
}
