//! `jinlian chain new` and `jinlian chain add-node` as an operator runs them.

#![allow(clippy::unwrap_used)]

use jinlian_crypto::{CryptoSuite, KeyFile, KeyPair};
use jinlian_node::chain::{Role, load_manifest};
use jinlian_node::config::NodeConfig;
use jinlian_node::genesis::{Genesis, load};
use jinlian_node::pki::TlsIdentity;
use std::path::Path;
use std::process::Command;

fn jinlian(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_jinlian")).args(args).output().unwrap()
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// Loads a node directory as the node would: its key, TLS identity, config and genesis agree.
fn check_node_dir(nd: &Path, suite: CryptoSuite) -> (KeyPair, NodeConfig, Genesis) {
    let cfg = NodeConfig::load(&nd.join("config.toml")).unwrap();
    let key = KeyFile::parse(&read(&cfg.node.key)).unwrap();
    assert_eq!(key.suite(), suite);
    let tls = TlsIdentity::from_pem(
        &read(&cfg.tls.cert),
        &read(&cfg.tls.agency),
        &read(&cfg.tls.key),
        &read(&cfg.tls.ca),
    )
    .unwrap();
    assert_eq!(tls.node_id, key.public().0, "the certificate carries the node's id");
    let genesis = load(&cfg.node.genesis).unwrap();
    #[cfg(unix)]
    {
        assert_eq!(mode(&cfg.node.key), 0o600);
        assert_eq!(mode(&cfg.tls.key), 0o600);
    }
    (key, cfg, genesis)
}

#[test]
fn chain_new_generates_every_node_and_add_node_issues_one_more() {
    for (sm, suite) in [(false, CryptoSuite::Ecdsa), (true, CryptoSuite::Sm)] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("chain");
        let d = dir.to_str().unwrap();
        let make = |observer: &'static str| {
            let mut args = vec![
                "chain",
                "new",
                "--dir",
                d,
                "--name",
                "test",
                "--agencies",
                "bankA,bankB",
                "--sealers",
                "127.0.0.1:30300,127.0.0.1:30301,bankA@127.0.0.1:30302,10.0.0.4:30300",
                "--observers",
                observer,
                "--fund",
                "0x00000000000000000000000000000000000000aa=1000000000000000000",
            ];
            if sm {
                args.push("--sm");
            }
            args
        };
        // An observer naming an agency that is not listed is refused, and nothing is written.
        let out = jinlian(&make("regulator-ignored@127.0.0.1:30305"));
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("not in --agencies"), "{err}");
        assert!(!dir.join("chain.json").exists());

        let args = make("bankB@127.0.0.1:30305");
        let out = jinlian(&args);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("node4") && stdout.contains("observer"), "{stdout}");
        assert!(stdout.contains("ca.key offline"), "{stdout}");
        #[cfg(unix)]
        {
            assert_eq!(mode(&dir.join("ca/ca.key")), 0o600);
            assert_eq!(mode(&dir.join("agencies/bankA/agency.key")), 0o600);
        }

        let m = load_manifest(&dir).unwrap();
        assert_eq!(m.nodes.len(), 5);
        let agencies: Vec<&str> = m.nodes.iter().map(|n| n.agency.as_str()).collect();
        assert_eq!(agencies, ["bankA", "bankB", "bankA", "bankA", "bankB"]);
        // RPC ports count per host: three sealers and the observer share 127.0.0.1.
        let rpc: Vec<u16> = m.nodes.iter().map(|n| n.rpc.port()).collect();
        assert_eq!(rpc, [8545, 8546, 8547, 8545, 8548]);
        let root_genesis = load(&dir.join("genesis.json")).unwrap();
        for (i, entry) in m.nodes.iter().enumerate() {
            let (key, cfg, genesis) = check_node_dir(&dir.join("nodes").join(&entry.name), suite);
            assert_eq!(key.public(), entry.node_id);
            assert_eq!(genesis, root_genesis, "every node has the same genesis");
            assert_eq!(cfg.network.peers.len(), 4, "node {i} dials the four others");
            assert!(!cfg.network.peers.contains(&entry.p2p));
        }
        assert_eq!(root_genesis.crypto_suite(), suite);
        assert_eq!(root_genesis.sealers.len(), 4);
        assert_eq!(root_genesis.observers, vec![m.nodes[4].node_id]);
        // The genesis state lists the sealers in the Consensus contract, sorted.
        let state = root_genesis.state();
        let sealers = jinlian_executor::system::sealers(&state).unwrap();
        let mut want: Vec<[u8; 64]> = root_genesis.sealers.iter().map(|s| s.0).collect();
        want.sort();
        assert_eq!(sealers, want);
        let funded = "0x00000000000000000000000000000000000000aa".parse().unwrap();
        assert_eq!(
            state.account(&funded).unwrap().balance,
            alloy_primitives::U256::from(10u64).pow(alloy_primitives::U256::from(18))
        );

        // Generating into the same directory again is refused.
        let out = jinlian(&args);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("not empty"));

        // add-node: one more node for bankB; existing nodes are untouched.
        let before = read(&dir.join("nodes/node0/config.toml"));
        let out = jinlian(&[
            "chain",
            "add-node",
            "--dir",
            d,
            "--agency",
            "bankB",
            "--p2p",
            "127.0.0.1:30306",
        ]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("addObserver"));
        assert_eq!(read(&dir.join("nodes/node0/config.toml")), before);
        let m = load_manifest(&dir).unwrap();
        let new = m.nodes.last().unwrap();
        assert_eq!((new.name.as_str(), new.role), ("node5", Role::Candidate));
        let (key, cfg, genesis) = check_node_dir(&dir.join("nodes/node5"), suite);
        assert_eq!(key.public(), new.node_id);
        assert_eq!(genesis, root_genesis);
        assert_eq!(cfg.network.peers.len(), 5);
        assert!(
            !genesis.sealers.contains(&new.node_id) && !genesis.observers.contains(&new.node_id)
        );
        for bad in [
            vec!["--agency", "nobody", "--p2p", "127.0.0.1:30307"],
            vec!["--agency", "bankA", "--p2p", "127.0.0.1:30306"],
            vec!["--agency", "bankA", "--p2p", "no-port"],
        ] {
            let mut a = vec!["chain", "add-node", "--dir", d];
            a.extend(bad);
            let out = jinlian(&a);
            assert!(!out.status.success(), "{a:?}");
            assert!(!String::from_utf8_lossy(&out.stderr).is_empty());
        }
    }
}

#[test]
fn chain_new_refuses_bad_addresses_with_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    for (agencies, sealers, extra, want) in [
        ("a", "127.0.0.1", "", "not host:port"),
        ("a", "127.0.0.1:0", "", "bad port"),
        ("a", "127.0.0.1:1,127.0.0.1:1", "", "given twice"),
        ("a", "127.0.0.1:1; 127.0.0.1:2", "", "is not an IPv4 address"),
        ("a", "bad host:1", "", "is not an IPv4 address"),
        ("a", "a@@127.0.0.1:1", "", "is not an IPv4 address"),
        ("a,a", "127.0.0.1:1", "", "listed twice"),
        ("a", "127.0.0.1:1", "--chain-id=0", "chain_id must be positive"),
        ("a", "127.0.0.1:1,127.0.0.1:2", "--rpc-port-base=65535", "RPC port range"),
        ("a", "127.0.0.1:8546,127.0.0.1:2", "", "also a peer port"),
    ] {
        let dir = tmp.path().join("c");
        let d = dir.to_str().unwrap();
        let mut args =
            vec!["chain", "new", "--dir", d, "--agencies", agencies, "--sealers", sealers];
        if !extra.is_empty() {
            args.push(extra);
        }
        let out = jinlian(&args);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{sealers}: {err}");
        assert!(!dir.exists(), "{sealers} {extra}: files were written despite the error");
    }
}
