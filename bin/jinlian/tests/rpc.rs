//! The JSON-RPC server of a real `jinlian node` (issue "JSON-RPC"): the Ethereum namespace as
//! a wallet or library uses it, filters, WebSocket subscriptions, group paths, and bad input
//! answered with errors that say what is wrong while the node keeps serving.

#![allow(clippy::unwrap_used)]

mod common;

use alloy_primitives::{Address, B256, Bytes, TxKind, U256, keccak256};
use alloy_sol_types::{SolCall, SolValue, sol};
use common::{Net, http, post, rpc, rpc_at};
use jinlian_crypto::{CryptoSuite, KeyPair};
use jinlian_primitives::{LegacyTx, Transaction, TxBody};
use serde_json::{Value, json};

sol! {
    function transfer(address to, uint256 value) external returns (bool);
    function transferFrom(address from, address to, uint256 value) external returns (bool);
    function balanceOf(address who) external view returns (uint256);
}

fn token_code(supply: U256) -> Vec<u8> {
    let text = include_str!("../../../contracts/artifacts/TestToken.json");
    let v: Value = serde_json::from_str(text).unwrap();
    let mut code = alloy_primitives::hex::decode(v["bytecode"].as_str().unwrap()).unwrap();
    code.extend_from_slice(&supply.abi_encode());
    code
}

fn signed(net: &Net, key: &KeyPair, nonce: u64, to: TxKind, input: Vec<u8>, gas: u64) -> String {
    let body = TxBody::Legacy(LegacyTx {
        nonce,
        gas_price: 0,
        gas_limit: gas,
        to,
        value: U256::ZERO,
        input: Bytes::from(input),
        chain_id: Some(net.chain_id),
    });
    let tx = Transaction::sign(body, key).unwrap();
    format!("0x{}", alloy_primitives::hex::encode(tx.encoded()))
}

fn hex_u64(v: &Value) -> u64 {
    u64::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

fn wait_receipt(net: &Net, hash: &str) -> Value {
    net.wait_for("a receipt", 30, |net| {
        rpc(net.nodes[0].rpc, "eth_getTransactionReceipt", json!([hash]))
            .is_ok_and(|r| !r.is_null())
    });
    rpc(net.nodes[0].rpc, "eth_getTransactionReceipt", json!([hash])).unwrap()
}

#[test]
fn the_ethereum_namespace_serves_a_token_end_to_end() {
    let mut net = Net::generate_with(1, 0, CryptoSuite::Ecdsa, 0);
    // A small log range, to see the limit at work.
    let cfg_path = net.nodes[0].dir.join("config.toml");
    let mut cfg: toml::Table = std::fs::read_to_string(&cfg_path).unwrap().parse().unwrap();
    cfg["rpc"]["limits"].as_table_mut().unwrap().insert("max_log_range".into(), 3.into());
    std::fs::write(&cfg_path, cfg.to_string()).unwrap();
    net.start_node(0);
    net.wait_rpc(0);
    let node = net.nodes[0].rpc;
    let me = KeyPair::from_secret(CryptoSuite::Ecdsa, &[0x31; 32]).unwrap();
    let other = Address::repeat_byte(0x77);

    // A block filter and a pending filter installed before anything happens.
    let block_filter = rpc(node, "eth_newBlockFilter", json!([])).unwrap();
    let pending_filter = rpc(node, "eth_newPendingTransactionFilter", json!([])).unwrap();
    assert!(block_filter.as_str().unwrap().starts_with("0x"));

    // Deploy, then three transfers sent back to back: the pending nonce counts pooled ones.
    let deploy = signed(&net, &me, 0, TxKind::Create, token_code(U256::from(1000)), 2_000_000);
    let deploy_hash = rpc(node, "eth_sendRawTransaction", json!([deploy])).unwrap();
    let receipt = wait_receipt(&net, deploy_hash.as_str().unwrap());
    assert_eq!(receipt["status"], "0x1", "{receipt}");
    let token: Address = receipt["contractAddress"].as_str().unwrap().parse().unwrap();
    let code = rpc(node, "eth_getCode", json!([token, "latest"])).unwrap();
    assert!(code.as_str().unwrap().len() > 100, "deployed code: {code}");
    assert_eq!(
        rpc(node, "eth_getTransactionCount", json!([me.address(), "latest"])).unwrap(),
        "0x1"
    );

    let mut hashes = Vec::new();
    for (i, n) in [1u64, 2, 3].iter().enumerate() {
        let data = transferCall { to: other, value: U256::from(10 * (i + 1)) }.abi_encode();
        let raw = signed(&net, &me, *n, TxKind::Call(token), data, 100_000);
        hashes.push(rpc(node, "eth_sendRawTransaction", json!([raw])).unwrap());
        // Right after sending, the transaction is known (pooled or committed).
        let t = rpc(node, "eth_getTransactionByHash", json!([hashes[i]])).unwrap();
        assert_eq!(t["hash"], hashes[i]);
        assert_eq!(t["from"], format!("{:#x}", me.address()));
    }
    for h in &hashes {
        wait_receipt(&net, h.as_str().unwrap());
    }
    assert_eq!(
        rpc(node, "eth_getTransactionCount", json!([me.address(), "pending"])).unwrap(),
        "0x4"
    );

    // State reads.
    let call = json!({"to": token, "data": format!("0x{}", alloy_primitives::hex::encode(balanceOfCall { who: other }.abi_encode()))});
    let out = rpc(node, "eth_call", json!([call, "latest"])).unwrap();
    assert_eq!(
        U256::from_str_radix(out.as_str().unwrap().trim_start_matches("0x"), 16).unwrap(),
        U256::from(60)
    );
    let slot = keccak256((other, U256::from(3)).abi_encode());
    let stored = rpc(node, "eth_getStorageAt", json!([token, slot, "latest"])).unwrap();
    assert_eq!(stored.as_str().unwrap(), format!("{:#x}", B256::from(U256::from(60))));
    // A state override changes what a call sees, not the chain.
    let overridden = rpc(
        node,
        "eth_call",
        json!([call, "latest", { format!("{token:#x}"): { "stateDiff": { format!("{slot:#x}"): format!("{:#x}", B256::from(U256::from(5))) } } }]),
    )
    .unwrap();
    assert_eq!(
        U256::from_str_radix(overridden.as_str().unwrap().trim_start_matches("0x"), 16).unwrap(),
        U256::from(5)
    );
    // Past state: the token's balances as they were after each transfer's block and before it.
    let blocks: Vec<u64> = hashes
        .iter()
        .map(|h| hex_u64(&wait_receipt(&net, h.as_str().unwrap())["blockNumber"]))
        .collect();
    for &b in &blocks {
        for at in [b - 1, b] {
            let want: u64 =
                blocks.iter().zip([10u64, 20, 30]).filter(|(x, _)| **x <= at).map(|(_, v)| v).sum();
            let out = rpc(node, "eth_call", json!([call, format!("{at:#x}")])).unwrap();
            assert_eq!(
                U256::from_str_radix(out.as_str().unwrap().trim_start_matches("0x"), 16).unwrap(),
                U256::from(want),
                "balance after block {at}"
            );
            let stored =
                rpc(node, "eth_getStorageAt", json!([token, slot, format!("{at:#x}")])).unwrap();
            assert_eq!(stored.as_str().unwrap(), format!("{:#x}", B256::from(U256::from(want))));
        }
    }
    let deployed_at = hex_u64(&receipt["blockNumber"]);
    assert_eq!(
        rpc(node, "eth_getCode", json!([token, format!("{:#x}", deployed_at - 1)])).unwrap(),
        "0x"
    );
    assert_eq!(
        rpc(
            node,
            "eth_getTransactionCount",
            json!([me.address(), format!("{:#x}", deployed_at - 1)])
        )
        .unwrap(),
        "0x0"
    );
    assert_eq!(
        rpc(node, "eth_getTransactionCount", json!([me.address(), format!("{deployed_at:#x}")]))
            .unwrap(),
        "0x1"
    );
    let e = rpc(node, "eth_getBalance", json!([me.address(), "0xffffff"])).unwrap_err();
    assert!(e["message"].as_str().unwrap().contains("header not found"), "{e}");

    // Estimates succeed at the figure and reverts carry code 3 with the data and reason.
    let data = transferCall { to: other, value: U256::from(1) }.abi_encode();
    let est = rpc(node, "eth_estimateGas", json!([{"from": me.address(), "to": token, "data": format!("0x{}", alloy_primitives::hex::encode(&data))}])).unwrap();
    assert!(hex_u64(&est) > 21_000 && hex_u64(&est) < 100_000, "{est}");
    let data =
        transferFromCall { from: other, to: me.address(), value: U256::from(1) }.abi_encode();
    let e = rpc(node, "eth_call", json!([{"from": me.address(), "to": token, "data": format!("0x{}", alloy_primitives::hex::encode(&data))}])).unwrap_err();
    assert_eq!(e["code"], 3, "{e}");
    assert_eq!(e["message"], "execution reverted: allowance too low");
    assert!(e["data"].as_str().unwrap().starts_with("0x08c379a0"), "{e}");
    let e = rpc(node, "eth_estimateGas", json!([{"from": me.address(), "to": token, "data": format!("0x{}", alloy_primitives::hex::encode(&data))}])).unwrap_err();
    assert_eq!(e["code"], 3, "{e}");

    // A call trace (geth's callTracer shape) of the same revert.
    let t = rpc(
        node,
        "debug_traceCall",
        json!([{"from": me.address(), "to": token, "data": format!("0x{}", alloy_primitives::hex::encode(&data))}, "latest", {"tracer": "callTracer"}]),
    )
    .unwrap();
    assert_eq!(t["type"], "CALL", "{t}");
    assert_eq!(t["to"], format!("{token:#x}"));
    assert_eq!(t["error"], "execution reverted");
    assert_eq!(t["revertReason"], "allowance too low");
    // A committed transaction, replayed on the state before its block.
    let r = wait_receipt(&net, hashes[1].as_str().unwrap());
    let t =
        rpc(node, "debug_traceTransaction", json!([hashes[1], {"tracer": "callTracer"}])).unwrap();
    assert_eq!(
        (&t["type"], &t["from"]),
        (&json!("CALL"), &json!(format!("{:#x}", me.address()))),
        "{t}"
    );
    assert_eq!(t["to"], format!("{token:#x}"));
    assert_eq!(t["gasUsed"], r["gasUsed"], "{t}");
    assert_eq!(t["gas"], "0x186a0");
    assert!(t.get("error").is_none(), "{t}");
    let e = rpc(node, "debug_traceTransaction", json!([hashes[1]])).unwrap_err();
    assert!(e["message"].as_str().unwrap().contains("callTracer"), "{e}");
    let e = rpc(
        node,
        "debug_traceTransaction",
        json!([B256::repeat_byte(1), {"tracer": "callTracer"}]),
    )
    .unwrap_err();
    assert!(e["message"].as_str().unwrap().contains("not in a committed block"), "{e}");

    // Logs: by address and topic, by block hash; the range is bounded.
    let transfer_topic = keccak256("Transfer(address,address,uint256)");
    let to_topic = B256::left_padding_from(other.as_slice());
    let logs = rpc(node, "eth_getLogs", json!([{"fromBlock": "0x2", "toBlock": "0x4", "address": token, "topics": [transfer_topic, null, to_topic]}])).unwrap();
    let logs = logs.as_array().unwrap();
    assert_eq!(logs.len(), 3, "{logs:?}");
    let r = wait_receipt(&net, hashes[1].as_str().unwrap());
    assert_eq!(logs[1]["transactionHash"], hashes[1]);
    assert_eq!(logs[1]["blockHash"], r["blockHash"]);
    assert_eq!(logs[1]["logIndex"], r["logs"][0]["logIndex"]);
    // (Transfers sent back to back may share a block.)
    let by_hash = rpc(node, "eth_getLogs", json!([{"blockHash": r["blockHash"]}])).unwrap();
    let by_hash = by_hash.as_array().unwrap();
    assert!(by_hash.iter().all(|l| l["blockHash"] == r["blockHash"]), "{by_hash:?}");
    assert!(by_hash.iter().any(|l| l["transactionHash"] == hashes[1]), "{by_hash:?}");
    let none = rpc(
        node,
        "eth_getLogs",
        json!([{"fromBlock": "0x2", "toBlock": "0x4", "address": Address::repeat_byte(1)}]),
    )
    .unwrap();
    assert_eq!(none, json!([]));
    let e = rpc(node, "eth_getLogs", json!([{"fromBlock": "0x0", "toBlock": "0x4"}])).unwrap_err();
    assert!(e["message"].as_str().unwrap().contains("at most 3"), "{e}");
    // A range past the head ends at the head.
    let past = rpc(
        node,
        "eth_getLogs",
        json!([{"fromBlock": "0x3", "toBlock": "0xffffff", "address": token}]),
    )
    .unwrap();
    let from_3 = hashes
        .iter()
        .filter(|h| hex_u64(&wait_receipt(&net, h.as_str().unwrap())["blockNumber"]) >= 3)
        .count();
    assert_eq!(past.as_array().unwrap().len(), from_3, "{past}");

    // A transaction behind a nonce gap waits in the pool as "queued", and is listed so.
    let gapped = signed(&net, &me, 9, TxKind::Call(other), vec![], 30_000);
    let gapped_hash = rpc(node, "eth_sendRawTransaction", json!([gapped])).unwrap();
    assert_eq!(
        rpc(node, "txpool_status", json!([])).unwrap(),
        json!({"pending": "0x0", "queued": "0x1"})
    );
    let content = rpc(node, "txpool_content", json!([])).unwrap();
    let mine = format!("{:#x}", me.address());
    assert_eq!(content["queued"][&mine]["9"]["hash"], gapped_hash, "{content}");
    assert_eq!(content["pending"], json!({}), "{content}");

    // Blocks and receipts agree.
    let n = hex_u64(&r["blockNumber"]);
    let block = rpc(node, "eth_getBlockByNumber", json!([format!("{n:#x}"), true])).unwrap();
    assert_eq!(block["hash"], r["blockHash"]);
    let idx = hex_u64(&r["transactionIndex"]) as usize;
    assert_eq!(block["transactions"][idx]["hash"], hashes[1]);
    assert_eq!(
        rpc(node, "eth_getBlockByHash", json!([r["blockHash"], false])).unwrap()["number"],
        block["number"]
    );
    let count = block["transactions"].as_array().unwrap().len() as u64;
    assert_eq!(
        rpc(node, "eth_getBlockTransactionCountByNumber", json!([block["number"]])).unwrap(),
        format!("{count:#x}")
    );
    let receipts = rpc(node, "eth_getBlockReceipts", json!([block["number"]])).unwrap();
    assert_eq!(receipts[idx], r);
    let by_index = rpc(
        node,
        "eth_getTransactionByBlockNumberAndIndex",
        json!([block["number"], format!("{idx:#x}")]),
    )
    .unwrap();
    assert_eq!(by_index["hash"], hashes[1]);
    assert_eq!(rpc(node, "eth_getBlockByNumber", json!(["0xffffff", false])).unwrap(), Value::Null);

    // Filters saw every new block and every pooled transaction.
    let blocks = rpc(node, "eth_getFilterChanges", json!([block_filter])).unwrap();
    // Every block since the filter was made (at height 0).
    let head = hex_u64(&rpc(node, "eth_blockNumber", json!([])).unwrap());
    assert_eq!(blocks.as_array().unwrap().len() as u64, head, "{blocks}");
    assert_eq!(rpc(node, "eth_getFilterChanges", json!([block_filter])).unwrap(), json!([]));
    let pending = rpc(node, "eth_getFilterChanges", json!([pending_filter])).unwrap();
    for h in hashes.iter().chain([&deploy_hash]) {
        assert!(pending.as_array().unwrap().contains(h), "{h} not in {pending}");
    }
    assert_eq!(rpc(node, "eth_uninstallFilter", json!([block_filter])).unwrap(), true);
    let e = rpc(node, "eth_getFilterChanges", json!([block_filter])).unwrap_err();
    assert_eq!(e["message"], "filter not found");

    // Fees are zero, and say so in the forms clients ask for.
    assert_eq!(rpc(node, "eth_gasPrice", json!([])).unwrap(), "0x0");
    let fh = rpc(node, "eth_feeHistory", json!(["0x4", "latest", [50]])).unwrap();
    assert_eq!(fh["baseFeePerGas"].as_array().unwrap().len(), 5);
    assert_eq!(fh["reward"].as_array().unwrap().len(), 4);
    assert_eq!(rpc(node, "eth_syncing", json!([])).unwrap(), false);
    assert_eq!(rpc(node, "net_version", json!([])).unwrap(), net.chain_id.to_string());
    assert_eq!(
        rpc(node, "web3_sha3", json!(["0x68656c6c6f"])).unwrap(),
        format!("{:#x}", keccak256(b"hello"))
    );
}

#[test]
fn bad_input_gets_errors_that_say_what_is_wrong_and_the_node_keeps_serving() {
    let net = Net::start_with(1, 0, CryptoSuite::Ecdsa, 0);
    let node = net.nodes[0].rpc;
    let code = |r: Result<Value, Value>| r.unwrap_err()["code"].as_i64().unwrap();
    // Malformed JSON, unknown method, wrong types, missing parameters.
    let (status, body) = post(node, "/", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":").unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("-32700"), "{body}");
    assert_eq!(code(rpc(node, "eth_noSuchMethod", json!([]))), -32601);
    // Subscriptions need a WebSocket, and the error says so.
    let e = rpc(node, "eth_subscribe", json!(["newHeads"])).unwrap_err();
    assert_eq!(e["code"], -32601, "{e}");
    assert!(e["message"].as_str().unwrap().contains("WebSocket"), "{e}");
    let e = rpc(node, "eth_getBalance", json!(["0x1234", "latest"])).unwrap_err();
    assert_eq!(e["code"], -32602);
    assert!(e["message"].as_str().unwrap().contains("20 bytes"), "{e}");
    assert_eq!(code(rpc(node, "eth_getBlockByNumber", json!([]))), -32602);
    assert_eq!(code(rpc(node, "eth_getBlockByNumber", json!(["latest", "yes"]))), -32602);
    assert_eq!(code(rpc(node, "eth_getTransactionReceipt", json!([42]))), -32602);
    assert_eq!(code(rpc(node, "eth_sendRawTransaction", json!(["0xdeadbeef"]))), -32602);
    // A transaction for another chain is refused with the reason.
    let key = KeyPair::from_secret(CryptoSuite::Ecdsa, &[5; 32]).unwrap();
    let tx = Transaction::sign(
        TxBody::Legacy(LegacyTx {
            nonce: 0,
            gas_price: 0,
            gas_limit: 21_000,
            to: TxKind::Call(Address::ZERO),
            value: U256::ZERO,
            input: Bytes::new(),
            chain_id: Some(net.chain_id + 1),
        }),
        &key,
    )
    .unwrap();
    let e = rpc(
        node,
        "eth_sendRawTransaction",
        json!([format!("0x{}", alloy_primitives::hex::encode(tx.encoded()))]),
    )
    .unwrap_err();
    assert!(e["message"].as_str().unwrap().to_lowercase().contains("chain"), "{e}");
    // A batch over the limit is refused as a whole; one within it is answered in full.
    let batch: Vec<Value> =
        (0..101).map(|i| json!({"jsonrpc":"2.0","id":i,"method":"eth_blockNumber"})).collect();
    let (_, body) = post(node, "/", &Value::Array(batch).to_string()).unwrap();
    assert!(body.contains("-32010") || body.to_lowercase().contains("batch"), "{body}");
    let batch: Vec<Value> =
        (0..5).map(|i| json!({"jsonrpc":"2.0","id":i,"method":"eth_chainId"})).collect();
    let (_, body) = post(node, "/", &Value::Array(batch).to_string()).unwrap();
    assert_eq!(serde_json::from_str::<Vec<Value>>(&body).unwrap().len(), 5);
    // Calls in batches are counted by method; unknown methods share one label.
    let (status, _, metrics) = http(node, "GET", "/metrics", "").unwrap();
    assert_eq!(status, 200);
    let count = |series: &str| -> u64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(series))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    assert_eq!(
        count("jinlian_rpc_requests_total{method=\"eth_chainId\",outcome=\"ok\"}"),
        5,
        "{metrics}"
    );
    assert!(
        count("jinlian_rpc_requests_total{method=\"other\",outcome=\"error\"}") >= 1,
        "{metrics}"
    );
    assert!(!metrics.contains("eth_noSuchMethod"), "client-chosen names never become labels");
    // Groups by path: the node's group, an unknown group, an unknown path.
    assert_eq!(
        rpc_at(node, "/group/1", "eth_chainId", json!([])).unwrap(),
        format!("{:#x}", net.chain_id)
    );
    let e = rpc_at(node, "/group/9", "eth_chainId", json!([])).unwrap_err();
    assert_eq!(e["code"], -40001, "{e}");
    assert!(rpc_at(node, "/nothing-here", "eth_chainId", json!([])).is_err());
    // A huge body is refused before it is read.
    let huge = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\",\"params\":[\"{}\"]}}",
        "a".repeat(5 * 1024 * 1024)
    );
    let refused = post(node, "/", &huge).map(|(status, _)| status);
    assert!(refused.as_ref().map_or(true, |s| *s == 413), "{refused:?}");
    // Still serving.
    assert!(rpc(node, "eth_blockNumber", json!([])).is_ok());
}

#[test]
fn websocket_subscriptions_deliver_heads_logs_and_pending_transactions() {
    use jsonrpsee::core::client::{ClientT, SubscriptionClientT};
    use jsonrpsee::rpc_params;
    let net = Net::start_with(1, 0, CryptoSuite::Ecdsa, 0);
    let node = net.nodes[0].rpc;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let ws = jsonrpsee::ws_client::WsClientBuilder::default()
            .build(format!("ws://{node}"))
            .await
            .unwrap();
        let chain: String = ws.request("eth_chainId", rpc_params![]).await.unwrap();
        assert_eq!(chain, format!("{:#x}", net.chain_id));
        let mut heads = ws
            .subscribe::<Value, _>("eth_subscribe", rpc_params!["newHeads"], "eth_unsubscribe")
            .await
            .unwrap();
        match heads.kind() {
            jsonrpsee::core::client::SubscriptionKind::Subscription(
                jsonrpsee::types::SubscriptionId::Str(id),
            ) => assert!(id.starts_with("0x"), "subscription id {id}"),
            other => panic!("subscription id {other:?}"),
        }
        let mut pending = ws
            .subscribe::<Value, _>(
                "eth_subscribe",
                rpc_params!["newPendingTransactions"],
                "eth_unsubscribe",
            )
            .await
            .unwrap();
        let me = KeyPair::from_secret(CryptoSuite::Ecdsa, &[0x41; 32]).unwrap();
        let deploy = signed(&net, &me, 0, TxKind::Create, token_code(U256::from(50)), 2_000_000);
        let token = alloy_primitives::Address::create(&me.address(), 0);
        let mut logs = ws
            .subscribe::<Value, _>(
                "eth_subscribe",
                rpc_params!["logs", json!({"address": token})],
                "eth_unsubscribe",
            )
            .await
            .unwrap();
        let hash: String = ws.request("eth_sendRawTransaction", rpc_params![deploy]).await.unwrap();
        let timeout = std::time::Duration::from_secs(30);
        let p = tokio::time::timeout(timeout, pending.next()).await.unwrap().unwrap().unwrap();
        assert_eq!(p, Value::String(hash.clone()));
        let head = tokio::time::timeout(timeout, heads.next()).await.unwrap().unwrap().unwrap();
        assert!(head["number"].as_str().unwrap().starts_with("0x"), "{head}");
        assert!(head["hash"].as_str().unwrap().len() == 66, "{head}");
        let log = tokio::time::timeout(timeout, logs.next()).await.unwrap().unwrap().unwrap();
        assert_eq!(log["transactionHash"], Value::String(hash));
        assert_eq!(log["address"], format!("{token:#x}"));
        // Unknown kinds are refused with a reason.
        let e = ws
            .subscribe::<Value, _>("eth_subscribe", rpc_params!["nonsense"], "eth_unsubscribe")
            .await
            .unwrap_err();
        assert!(e.to_string().contains("unknown subscription"), "{e}");
    });
}
