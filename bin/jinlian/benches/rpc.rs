//! JSON-RPC benchmarks against a real `jinlian node` (issue "JSON-RPC"):
//!
//! 1. requests/s of `eth_blockNumber`, `eth_call` (ERC-20 `balanceOf`) and `eth_getLogs` over
//!    `JINLIAN_BENCH_BLOCKS` blocks (default 10,000, one Transfer log each), from 16 HTTP
//!    connections for 5 s each (the load generator shares the machine's cores with the node);
//! 2. memory: the node's RSS before and after 1,000 open WebSocket subscriptions (4
//!    connections × 250: newHeads and logs), and notifications still flowing while blocks
//!    commit.
//!
//! `cargo bench -p jinlian --bench rpc`. Figures go to docs/PERFORMANCE.md.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

#[path = "../tests/common/mod.rs"]
mod common;

use alloy_primitives::{Address, TxKind, U256};
use alloy_sol_types::{SolCall, SolValue, sol};
use common::Net;
use jinlian_crypto::{CryptoSuite, KeyPair};
use jinlian_sdk::Client;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

sol! {
    function transfer(address to, uint256 value) external returns (bool);
    function balanceOf(address who) external view returns (uint256);
}

use common::{env_u64 as env, rss_mib};

/// Requests/s of one call from `conns` connections over `secs`.
async fn hammer(
    url: &str,
    conns: usize,
    secs: u64,
    method: &'static str,
    params: Vec<Value>,
) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let client = Client::connect(url).await.unwrap();
        let (done, params) = (done.clone(), params.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < until {
                let _: Value = client.request(method, params.clone()).await.unwrap();
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let t = Instant::now();
    for task in tasks {
        task.await.unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / t.elapsed().as_secs_f64()
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let blocks = env("JINLIAN_BENCH_BLOCKS", 10_000);
    let mut net = Net::generate_with(1, 0, CryptoSuite::Ecdsa, 0);
    net.start_node(0);
    net.wait_rpc(0);
    let url = format!("http://{}", net.nodes[0].rpc);
    let pid = net.nodes[0].child.as_ref().unwrap().id();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let me = KeyPair::from_secret(CryptoSuite::Ecdsa, &[0x71; 32]).unwrap();
    let holder = Address::repeat_byte(0x77);
    let token = rt.block_on(async {
        let client = Client::connect(&url).await.unwrap();
        let chain_id = client.chain_id().await.unwrap();
        let text = include_str!("../../../contracts/artifacts/TestToken.json");
        let v: Value = serde_json::from_str(text).unwrap();
        let mut code = alloy_primitives::hex::decode(v["bytecode"].as_str().unwrap()).unwrap();
        code.extend_from_slice(&U256::from(u64::MAX).abi_encode());
        let tx = jinlian_sdk::tx::ethereum(
            &me,
            chain_id,
            0,
            TxKind::Create,
            U256::ZERO,
            code,
            3_000_000,
        )
        .unwrap();
        let h = client.send(&tx).await.unwrap();
        let r = client.wait_for_receipt(h, Duration::from_secs(30)).await.unwrap();
        let token = r.contract_address.unwrap();
        println!(
            "rpc/setup: {blocks} blocks with one Transfer log each (one transaction at a time)"
        );
        let t = Instant::now();
        let mut nonce = 1;
        while client.block_number().await.unwrap() < blocks {
            let data = transferCall { to: holder, value: U256::from(1) }.abi_encode();
            let tx = jinlian_sdk::tx::ethereum(
                &me,
                chain_id,
                nonce,
                TxKind::Call(token),
                U256::ZERO,
                data,
                100_000,
            )
            .unwrap();
            nonce += 1;
            let h = client.send(&tx).await.unwrap();
            client.wait_for_receipt(h, Duration::from_secs(30)).await.unwrap();
        }
        println!("  done in {:.0} s", t.elapsed().as_secs_f64());
        token
    });

    println!("rpc/throughput: 16 HTTP connections, 5 s per method, 1 sealer, {blocks} blocks");
    let call = json!({"to": token, "data": format!("0x{}", alloy_primitives::hex::encode(balanceOfCall { who: holder }.abi_encode()))});
    let logs = json!({"fromBlock": "0x1", "toBlock": format!("{:#x}", blocks), "address": token,
        "topics": [format!("{:#x}", alloy_primitives::keccak256("Transfer(address,address,uint256)")), null, format!("{:#x}", holder.into_word())]});
    rt.block_on(async {
        let n = hammer(&url, 16, 5, "eth_blockNumber", vec![]).await;
        println!("  eth_blockNumber: {n:.0} requests/s");
        let n = hammer(&url, 16, 5, "eth_call", vec![call.clone(), "latest".into()]).await;
        println!("  eth_call balanceOf: {n:.0} requests/s");
        let client = Client::connect(&url).await.unwrap();
        let found: Value = client.request("eth_getLogs", vec![logs.clone()]).await.unwrap();
        let count = found.as_array().unwrap().len();
        let n = hammer(&url, 4, 5, "eth_getLogs", vec![logs.clone()]).await;
        println!("  eth_getLogs over {blocks} blocks ({count} logs each answer): {n:.2} requests/s");
        let narrow = json!({"fromBlock": "0x1", "toBlock": format!("{:#x}", blocks), "address": token,
            "topics": [null, null, format!("{:#x}", Address::repeat_byte(0x55).into_word())]});
        let n = hammer(&url, 4, 5, "eth_getLogs", vec![narrow]).await;
        println!("  eth_getLogs over {blocks} blocks, a recipient with no logs (bloom skips): {n:.1} requests/s");
    });

    println!("rpc/memory: 1,000 WebSocket subscriptions (4 connections × 250)");
    let before = rss_mib(pid);
    let ws = format!("ws://{}", net.nodes[0].rpc);
    rt.block_on(async {
        let mut clients = Vec::new();
        let mut subs = Vec::new();
        for _ in 0..4 {
            let c = Client::connect(&ws).await.unwrap();
            for i in 0..250 {
                let args = if i % 2 == 0 { vec![json!("newHeads")] } else { vec![json!("logs"), json!({"address": token})] };
                subs.push(c.subscribe(args).await.unwrap());
            }
            clients.push(c);
        }
        let with = rss_mib(pid);
        // Blocks keep committing; every subscription hears of them.
        let sender = Client::connect(&url).await.unwrap();
        let chain_id = sender.chain_id().await.unwrap();
        let nonce: Value = sender.request("eth_getTransactionCount", vec![json!(me.address()), "pending".into()]).await.unwrap();
        let nonce = u64::from_str_radix(nonce.as_str().unwrap().trim_start_matches("0x"), 16).unwrap();
        let t = Instant::now();
        for k in 0..20 {
            let data = transferCall { to: holder, value: U256::from(1) }.abi_encode();
            let tx = jinlian_sdk::tx::ethereum(&me, chain_id, nonce + k, TxKind::Call(token), U256::ZERO, data, 100_000).unwrap();
            let h = sender.send(&tx).await.unwrap();
            sender.wait_for_receipt(h, Duration::from_secs(30)).await.unwrap();
        }
        let mut heard = 0;
        for s in subs.iter_mut() {
            if tokio::time::timeout(Duration::from_secs(5), s.next()).await.is_ok() {
                heard += 1;
            }
        }
        let after = rss_mib(pid);
        println!(
            "  RSS {before:.0} MiB before, {with:.0} MiB with 1,000 subscriptions, {after:.0} MiB after 20 more blocks ({:.1} s); {heard}/1000 subscriptions notified",
            t.elapsed().as_secs_f64()
        );
    });
}
