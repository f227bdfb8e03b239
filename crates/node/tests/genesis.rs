//! genesis.json: what it must contain, and the block 0 every node derives from it.

#![allow(clippy::unwrap_used)]

use jinlian_crypto::{CryptoSuite, KeyPair};
use jinlian_node::genesis::*;
use jinlian_storage::{Ledger, MemStore};

fn genesis(suite: CryptoSuite, n: u8) -> Genesis {
    let ids = (1..=n).map(|i| KeyPair::from_secret(suite, &[i; 32]).unwrap().public()).collect();
    Genesis {
        chain_name: "t".into(),
        suite: suite.into(),
        chain_id: 7,
        group_id: 1,
        timestamp_ms: 1_764_000_000_000,
        block_gas_limit: 1_000_000_000,
        sealers: ids,
        observers: vec![],
        accounts: vec![],
        committee: vec![],
        config: GenesisConfig::default(),
    }
}

#[test]
fn the_same_genesis_gives_the_same_block_and_a_ledger_accepts_it() {
    for suite in [CryptoSuite::Ecdsa, CryptoSuite::Sm] {
        let g = genesis(suite, 4);
        let text = g.to_json();
        let again = Genesis::from_json(&text).unwrap();
        assert_eq!(again.hash(), g.hash());
        // Any change gives another genesis.
        let mut other = g.clone();
        other.chain_id = 8;
        assert_ne!(other.hash(), g.hash());
        let (block, writes) = g.block();
        let ledger = Ledger::new(MemStore::new(), suite).unwrap();
        let head = ledger.commit_block(&block, &[], &writes).unwrap();
        assert_eq!(head.hash, g.hash());
        check_matches(&g, head.hash).unwrap();
        let err = check_matches(&other, head.hash).unwrap_err().to_string();
        assert!(err.contains("another genesis"), "{err}");
    }
}

#[test]
fn bad_genesis_files_are_refused_with_the_reason() {
    let good = genesis(CryptoSuite::Ecdsa, 1).to_json();
    let cases = [
        (good.replace("\"chain_id\": 7", "\"chain_id\": 0"), "chain_id"),
        (good.replace("\"tx_count_limit\": 10000", "\"tx_count_limit\": 0"), "tx_count_limit"),
        (good.replace("\"chain_name\"", "\"surprise\": 1, \"chain_name\""), "unknown field"),
        (good.replace("\"suite\": \"ecdsa\"", "\"suite\": \"rsa\""), "unknown variant"),
    ];
    for (text, want) in cases {
        let err = format!("{:#}", Genesis::from_json(&text).unwrap_err());
        assert!(err.contains(want), "{want}: {err}");
    }
    let mut g = genesis(CryptoSuite::Ecdsa, 2);
    g.observers.push(g.sealers[0]);
    assert!(g.validate().unwrap_err().to_string().contains("listed twice"));
    let mut g = genesis(CryptoSuite::Ecdsa, 1);
    g.sealers.clear();
    assert!(g.validate().unwrap_err().to_string().contains("at least one sealer"));
    // An ECDSA node id in an SM genesis is not a point of the SM2 curve (or vice versa).
    let mut g = genesis(CryptoSuite::Sm, 1);
    g.sealers.push(KeyPair::from_secret(CryptoSuite::Ecdsa, &[9; 32]).unwrap().public());
    assert!(g.validate().is_err());
}
