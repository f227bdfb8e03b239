//! Real `jinlian node` processes on loopback (issue "Node"): a chain commits transactions
//! and every node, observers included, holds the same blocks and state roots.

#![allow(clippy::unwrap_used)]

mod common;

use alloy_primitives::Address;
use common::{Net, rpc};
use jinlian_crypto::{CryptoSuite, KeyPair};
use serde_json::json;

fn same_chain(net: &Net, upto: u64) {
    for h in 1..=upto {
        let ids: Vec<_> = (0..net.nodes.len()).map(|i| net.block_id(i, h)).collect();
        assert!(ids[0].is_some(), "block {h} missing on node0");
        assert!(ids.iter().all(|x| *x == ids[0]), "block {h} differs: {ids:?}");
    }
}

#[test]
fn four_sealers_and_an_observer_commit_the_same_chain() {
    for suite in [CryptoSuite::Ecdsa, CryptoSuite::Sm] {
        let net = Net::start(4, 1, suite);
        let user = KeyPair::from_secret(suite, &[7; 32]).unwrap();
        let mut hashes = Vec::new();
        for i in 0..20u64 {
            let raw = net.tx(&user, i + 1, 500, Address::repeat_byte(0x42), vec![]);
            let node = &net.nodes[(i % 4) as usize];
            let h = rpc(node.rpc, "eth_sendRawTransaction", json!([raw])).unwrap();
            hashes.push(h.as_str().unwrap().to_string());
        }
        net.wait_for("every receipt", 60, |net| {
            hashes.iter().all(|h| {
                rpc(net.nodes[0].rpc, "eth_getTransactionReceipt", json!([h]))
                    .is_ok_and(|r| !r.is_null())
            })
        });
        let target = net.height(0).unwrap();
        net.wait_for("every node at the same height", 60, |net| {
            (0..net.nodes.len()).all(|i| net.height(i).is_some_and(|h| h >= target))
        });
        same_chain(&net, target);
        let r = rpc(net.nodes[4].rpc, "eth_getTransactionReceipt", json!([hashes[0]])).unwrap();
        assert_eq!(r["status"], "0x1", "the observer has the receipts too: {r}");
        // A replayed transaction is refused with the reason.
        let raw = net.tx(&user, 1, 500, Address::repeat_byte(0x42), vec![]);
        let e = rpc(net.nodes[0].rpc, "eth_sendRawTransaction", json!([raw])).unwrap_err();
        assert!(e["message"].as_str().unwrap().contains("already in the chain"), "{e}");
    }
}
