//! Groups and membership with real processes (issue "Groups and membership"): two groups on
//! four nodes with different sealers commit independently; a node outside a group gets none
//! of its blocks; groups are generated, stopped and started through the RPC; a fifth node
//! joins by transaction as an observer, catches up, becomes a sealer whose signatures appear
//! in certificates, and is removed; the last sealer cannot be removed.

#![allow(clippy::unwrap_used)]

mod common;

use alloy_primitives::{Address, TxKind, U256};
use common::{Net, rpc, rpc_at};
use jinlian_crypto::{CryptoSuite, KeyPair};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

fn jinlian(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_jinlian")).args(args).output().unwrap()
}

/// `jinlian chain add-group --dir <chain> --group <group> <more…>`.
fn add_group(chain: &std::path::Path, group: &str, more: &[&str]) -> std::process::Output {
    let mut args = vec!["chain", "add-group", "--dir", chain.to_str().unwrap(), "--group", group];
    args.extend_from_slice(more);
    jinlian(&args)
}

fn ok(out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn hex_u64(v: &Value) -> u64 {
    u64::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

fn height(addr: SocketAddr, path: &str) -> u64 {
    hex_u64(&rpc_at(addr, path, "eth_blockNumber", json!([])).unwrap())
}

fn wait(what: &str, secs: u64, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Sends `n` value-free Ethereum transactions from `key` (nonces from `nonce`) to `path`.
fn send(
    addr: SocketAddr,
    path: &str,
    chain_id: u64,
    key: &KeyPair,
    nonce: &mut u64,
    n: usize,
) -> Vec<String> {
    (0..n)
        .map(|_| {
            let raw = common::plain_transfer(key, chain_id, *nonce);
            *nonce += 1;
            rpc_at(addr, path, "eth_sendRawTransaction", json!([raw]))
                .unwrap()
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

fn committed(addr: SocketAddr, path: &str, hashes: &[String]) -> bool {
    hashes.iter().all(|h| {
        rpc_at(addr, path, "eth_getTransactionReceipt", json!([h])).is_ok_and(|r| !r.is_null())
    })
}

#[test]
fn two_groups_on_four_nodes_commit_apart_and_outsiders_get_nothing() {
    let mut net = Net::generate_with(4, 0, CryptoSuite::Ecdsa, 0);
    let chain = net.chain_dir();
    let said = ok(add_group(&chain, "2", &["--sealers", "node1,node2,node3"]));
    assert!(said.contains("created group 2"), "{said}");
    // Bad requests are refused before anything is written.
    let out = add_group(&chain, "2", &["--sealers", "node1"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("already"));
    let out = add_group(&chain, "3", &["--sealers", "node9"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("not a node"));
    // Two groups never share a chain id (a transaction would be valid in both).
    let out =
        add_group(&chain, "3", &["--sealers", "node1", "--chain-id", &net.chain_id.to_string()]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("chain id"));
    assert!(!chain.join("groups/3").exists(), "nothing written for a refused group");
    for i in 0..4 {
        net.start_node(i);
    }
    for i in 0..4 {
        net.wait_rpc(i);
    }
    let (n0, n1) = (net.nodes[0].rpc, net.nodes[1].rpc);
    let chain2 = net.chain_id + 1;
    assert_eq!(rpc_at(n1, "/group/2", "eth_chainId", json!([])).unwrap(), format!("{chain2:#x}"));
    let groups = rpc(n1, "jinlian_groups", json!([])).unwrap();
    assert_eq!(
        groups,
        json!([{"groupId": 1, "status": "RUNNING"}, {"groupId": 2, "status": "RUNNING"}])
    );
    let e = rpc_at(n0, "/group/2", "eth_chainId", json!([])).unwrap_err();
    assert_eq!(e["code"], -40001, "node0 is not in group 2: {e}");

    // Both groups commit at once, each on its own ledger.
    let (k1, k2) = (
        KeyPair::from_secret(CryptoSuite::Ecdsa, &[0x61; 32]).unwrap(),
        KeyPair::from_secret(CryptoSuite::Ecdsa, &[0x62; 32]).unwrap(),
    );
    let (mut nonce1, mut nonce2) = (0, 0);
    let mut g1 = Vec::new();
    let mut g2 = Vec::new();
    for _ in 0..5 {
        g1.extend(send(n0, "/", net.chain_id, &k1, &mut nonce1, 4));
        g2.extend(send(n1, "/group/2", chain2, &k2, &mut nonce2, 4));
    }
    wait("both groups to commit", 60, || committed(n0, "/", &g1) && committed(n1, "/group/2", &g2));
    assert!(
        rpc(n0, "eth_getTransactionReceipt", json!([g2[0]])).unwrap().is_null(),
        "group 2's transactions are not in group 1"
    );
    // Group 2's blocks are certified by its three sealers only.
    let b = rpc(n1, "getBlockByNumber", json!([2, "0x1", false])).unwrap();
    let mut want: Vec<String> =
        net.node_ids()[1..4].iter().map(alloy_primitives::hex::encode).collect();
    want.sort();
    let list: Vec<String> = b["sealerList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().trim_start_matches("0x").to_string())
        .collect();
    assert_eq!(list, want, "{b}");
    assert_eq!(b["signatureList"].as_array().unwrap().len(), 3);
    // The explorer shows each group and links them.
    let (status, _, page) = common::http(n1, "GET", "/explorer?group=2", "").unwrap();
    assert_eq!(status, 200);
    assert!(page.contains(&format!("Group 2 · chain id {chain2}")), "{page}");
    assert!(page.contains("href=\"/explorer?group=1\">Group 1</a>"), "{page}");
    let (_, _, metrics) = common::http(n1, "GET", "/metrics", "").unwrap();
    assert!(metrics.contains("jinlian_block_height{group=\"2\"}"), "{metrics}");
    // A transaction for group 2 sent to group 1 is refused.
    let tx = jinlian_sdk::tx::consortium(
        &k2,
        jinlian_sdk::tx::Envelope {
            chain_id: chain2,
            group_id: 2,
            block_limit: height(n0, "/") + 100,
        },
        TxKind::Call(Address::repeat_byte(0x42)),
        U256::ZERO,
        Vec::<u8>::new(),
        30_000,
    )
    .unwrap();
    let raw = format!("0x{}", alloy_primitives::hex::encode(tx.encoded()));
    let e = rpc_at(n0, "/", "eth_sendRawTransaction", json!([raw])).unwrap_err();
    assert!(e.to_string().contains("InvalidGroupId"), "{e}");
    let e = rpc(n0, "sendRawTransaction", json!([1, raw])).unwrap_err();
    assert!(e.to_string().contains("InvalidGroupId"), "{e}");

    // node0 gets group 2's genesis and runs it, but is not a member: nobody sends it blocks.
    let genesis = std::fs::read_to_string(chain.join("groups/2/genesis.json")).unwrap();
    let r = rpc(n0, "generateGroup", json!([2, serde_json::from_str::<Value>(&genesis).unwrap()]))
        .unwrap();
    assert_eq!(r["code"], "0x0", "{r}");
    let out = ok(jinlian(&["group", "start", "2", "--rpc", &format!("http://{n0}")]));
    assert!(out.contains("started"), "{out}");
    let more = send(n1, "/group/2", chain2, &k2, &mut nonce2, 3);
    wait("group 2 to commit more", 30, || committed(n1, "/group/2", &more));
    std::thread::sleep(Duration::from_secs(5)); // two status rounds
    assert!(height(n1, "/group/2") >= 2);
    assert_eq!(height(n0, "/group/2"), 0, "an outsider fetches no block of the group");

    // Lifecycle: stop (kept across a restart), start again; errors say why.
    let out = ok(jinlian(&["group", "stop", "2", "--rpc", &format!("http://{n0}")]));
    assert!(out.contains("stopped"), "{out}");
    // Started again at once (its ledger reopened in the same process), then stopped again.
    assert_eq!(rpc(n0, "startGroup", json!([2])).unwrap()["code"], "0x0");
    assert_eq!(rpc(n0, "queryGroupStatus", json!([2])).unwrap()["status"], "RUNNING");
    assert_eq!(rpc(n0, "startGroup", json!([2])).unwrap()["code"], "0x4", "already running");
    assert_eq!(rpc(n0, "stopGroup", json!([2])).unwrap()["code"], "0x0");
    // A web page (it sends Origin) cannot manage groups, even on loopback.
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "stopGroup", "params": [2]}).to_string();
    let mut s = std::net::TcpStream::connect(n0).unwrap();
    use std::io::{Read, Write};
    write!(
        s,
        "POST / HTTP/1.1\r\nHost: {n0}\r\nOrigin: http://evil.example\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.contains("refused to browser pages"), "{answer}");
    // The node's own group is not stopped through the RPC.
    let r = rpc(n0, "stopGroup", json!([1])).unwrap();
    assert_ne!(r["code"], "0x0", "{r}");
    assert_eq!(rpc(n0, "queryGroupStatus", json!([1])).unwrap()["status"], "RUNNING");
    assert_eq!(rpc(n0, "queryGroupStatus", json!([2])).unwrap()["status"], "STOPPED");
    assert_eq!(rpc_at(n0, "/group/2", "eth_chainId", json!([])).unwrap_err()["code"], -40001);
    let again = rpc(n0, "stopGroup", json!([2])).unwrap();
    assert_ne!(again["code"], "0x0", "{again}");
    assert_eq!(rpc(n0, "queryGroupStatus", json!([9])).unwrap()["status"], "INEXISTENT");
    let r = rpc(n0, "startGroup", json!([9])).unwrap();
    assert!(r["message"].as_str().unwrap().contains("generate it first"), "{r}");
    net.stop(0);
    net.start_node(0);
    net.wait_rpc(0);
    assert_eq!(rpc(n0, "queryGroupStatus", json!([2])).unwrap()["status"], "STOPPED");
    let r = rpc(n0, "startGroup", json!([2])).unwrap();
    assert_eq!(r["code"], "0x0", "{r}");
    let list = ok(jinlian(&["group", "list", "--rpc", &format!("http://{n0}")]));
    assert!(list.contains("RUNNING") && list.lines().count() == 2, "{list}");
    // Group 1 kept committing through all of it.
    let last = send(n0, "/", net.chain_id, &k1, &mut nonce1, 2);
    wait("group 1 to commit again", 30, || committed(n0, "/", &last));
}

#[test]
fn a_node_joins_by_transaction_votes_as_a_sealer_and_leaves() {
    let mut net = Net::generate_with(4, 0, CryptoSuite::Ecdsa, 100);
    for i in 0..4 {
        net.start_node(i);
    }
    for i in 0..4 {
        net.wait_rpc(i);
    }
    let chain = net.chain_dir();
    let port = net.unused_port();
    ok(jinlian(&[
        "chain",
        "add-node",
        "--dir",
        chain.to_str().unwrap(),
        "--agency",
        "bankA",
        "--p2p",
        &format!("127.0.0.1:{port}"),
    ]));
    net.adopt_new_nodes();
    net.start_node(4);
    net.wait_rpc(4);
    let id = alloy_primitives::hex::encode(net.node_ids()[4]);
    let admin = chain.join("admin.key.json");
    let node0 = net.nodes[0].rpc;
    let cli = |args: &[&str]| {
        let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        all.extend([
            "--key".into(),
            admin.display().to_string(),
            "--rpc".into(),
            format!("http://{node0}"),
        ]);
        jinlian(&all.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let user = KeyPair::from_secret(CryptoSuite::Ecdsa, &[0x63; 32]).unwrap();
    let early = net.send(&user, 0, 3);
    net.wait_for("first commits", 30, |n| n.has_receipts(0, &early));
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(net.height(4), Some(0), "not a member yet: no blocks for it");

    // An observer by transaction: it catches up and follows.
    let out = ok(cli(&["sealer", "add", &id, "--observer"]));
    assert!(out.contains("observer"), "{out}");
    let target = net.height(0).unwrap();
    net.wait_for("the observer to catch up", 60, |n| n.height(4).is_some_and(|h| h >= target));

    // A sealer: with node3 down, no quorum forms without node4's vote.
    let out = ok(cli(&["sealer", "add", &id]));
    assert!(out.contains("sealer"), "{out}");
    let since = net.height(0).unwrap();
    net.kill(3);
    let txs = net.send(&user, 0, 3);
    net.wait_for("commits that need the new sealer", 90, |n| n.has_receipts(0, &txs));
    let top = net.height(0).unwrap();
    let mut signed_by_new = 0;
    for h in since + 1..=top {
        let b = rpc(net.nodes[0].rpc, "getBlockByNumber", json!([1, format!("{h:#x}"), false]))
            .unwrap();
        let list: Vec<String> = b["sealerList"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().trim_start_matches("0x").to_string())
            .collect();
        let Some(me) = list.iter().position(|s| *s == id) else { continue };
        if b["signatureList"].as_array().unwrap().iter().any(|s| hex_u64(&s["index"]) == me as u64)
        {
            signed_by_new += 1;
        }
    }
    assert!(
        signed_by_new > 0,
        "node4's signatures appear in certificates of blocks {}..={top}",
        since + 1
    );
    // Proofs verify offline against the sealers of their own block: the first four for a
    // block before node4 joined, all five after.
    let ids: Vec<jinlian_crypto::PublicKey> =
        net.node_ids().into_iter().map(jinlian_crypto::PublicKey).collect();
    for (hash, trusted) in [(&early[0], &ids[..4]), (&txs[0], &ids[..5])] {
        let p = rpc(net.nodes[0].rpc, "jinlian_getTransactionProof", json!([hash])).unwrap();
        let proof: jinlian_sdk::TxProof = serde_json::from_value(p.clone()).unwrap();
        assert_eq!(proof.sealers.len(), trusted.len(), "{p}");
        jinlian_sdk::proof::verify(&proof, trusted).unwrap();
    }
    net.start_node(3);
    net.wait_rpc(3);

    // Removed entirely: it stops voting and receiving the group's blocks.
    let out = ok(cli(&["sealer", "remove", &id]));
    assert!(out.contains("removed"), "{out}");
    let sealers = rpc(net.nodes[0].rpc, "getSealerList", json!([1])).unwrap();
    assert!(
        !sealers
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s.as_str().unwrap().trim_start_matches("0x") == id),
        "{sealers}"
    );
    let at_removal = net.height(4).unwrap();
    for _ in 0..3 {
        let txs = net.send(&user, 0, 1);
        net.wait_for("commits without node4", 90, |n| n.has_receipts(0, &txs));
    }
    std::thread::sleep(Duration::from_secs(3));
    assert!(net.height(0).unwrap() > at_removal + 1);
    assert!(net.height(4).unwrap() <= at_removal + 1, "a removed node gets no more blocks");
    net.assert_no_fork();
}

#[test]
fn the_last_sealer_cannot_be_removed() {
    let net = Net::start_with(1, 0, CryptoSuite::Ecdsa, 0);
    let id = alloy_primitives::hex::encode(net.node_ids()[0]);
    let admin = net.chain_dir().join("admin.key.json");
    let out = jinlian(&[
        "sealer",
        "remove",
        &id,
        "--key",
        admin.to_str().unwrap(),
        "--rpc",
        &format!("http://{}", net.nodes[0].rpc),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.to_lowercase().contains("last sealer"), "{err}");
    let sealers = rpc(net.nodes[0].rpc, "getSealerList", json!([1])).unwrap();
    assert_eq!(sealers.as_array().unwrap().len(), 1);
}
