//! Who may talk to a node: a node certified under another chain CA is refused at the TLS
//! handshake and a blacklisted node id right after it (the logs say why, and neither gets
//! blocks); a peer with a valid certificate that sends garbage, oversized frames or forged
//! consensus messages, or stays silent, is dropped while the chain keeps committing.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Net, free_port, rpc};
use jinlian_crypto::{CryptoSuite, KeyPair};
use jinlian_node::config::NodeConfig;
use jinlian_node::pki::TlsIdentity;
use serde_json::json;
use std::io::Write;
use std::net::TcpStream;
use std::process::Command;

fn jinlian(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_jinlian")).args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn set_config(path: &std::path::Path, edit: impl FnOnce(&mut toml::Table)) {
    let mut t: toml::Table = std::fs::read_to_string(path).unwrap().parse().unwrap();
    edit(&mut t);
    std::fs::write(path, toml::to_string(&t).unwrap()).unwrap();
}

fn p2p_of(net: &Net, i: usize) -> String {
    NodeConfig::load(&net.nodes[i].dir.join("config.toml")).unwrap().network.listen.to_string()
}

#[test]
fn foreign_and_blacklisted_nodes_are_refused_and_get_nothing() {
    for suite in [CryptoSuite::Ecdsa, CryptoSuite::Sm] {
        foreign_and_blacklisted_nodes_are_refused_and_get_nothing_in(suite);
    }
}

fn foreign_and_blacklisted_nodes_are_refused_and_get_nothing_in(suite: CryptoSuite) {
    let mut net = Net::generate(4, 0, suite);
    let chain = net.chain_dir();
    // A node of this chain (valid certificate) that every sealer blacklists.
    let banned_p2p = format!("127.0.0.1:{}", net.unused_port());
    jinlian(&[
        "chain",
        "add-node",
        "--dir",
        chain.to_str().unwrap(),
        "--agency",
        "bankA",
        "--p2p",
        &banned_p2p,
    ]);
    let banned_dir = chain.join("nodes/node4");
    let banned_cfg = NodeConfig::load(&banned_dir.join("config.toml")).unwrap();
    let banned_key =
        jinlian_crypto::KeyFile::parse(&std::fs::read_to_string(&banned_cfg.node.key).unwrap())
            .unwrap();
    let banned_hex = banned_key.public().to_hex();
    for i in 0..4 {
        set_config(&net.nodes[i].dir.join("config.toml"), |t| {
            t["network"]
                .as_table_mut()
                .unwrap()
                .insert("blacklist".into(), toml::Value::Array(vec![banned_hex.clone().into()]));
        });
        net.start_node(i);
    }
    for i in 0..4 {
        net.wait_rpc(i);
    }
    // A node of another chain (its own CA) pointed at ours.
    let other = tempfile::tempdir().unwrap();
    let other_chain = other.path().join("c");
    let fp = format!("127.0.0.1:{}", free_port());
    let rpc_port = free_port().to_string();
    let mut args = vec![
        "chain",
        "new",
        "--dir",
        other_chain.to_str().unwrap(),
        "--agencies",
        "evil",
        "--sealers",
        &fp,
        "--rpc-port-base",
        &rpc_port,
    ];
    if suite == CryptoSuite::Sm {
        args.push("--sm");
    }
    jinlian(&args);
    let peers: Vec<toml::Value> = (0..4).map(|i| p2p_of(&net, i).into()).collect();
    set_config(&other_chain.join("nodes/node0/config.toml"), |t| {
        t["network"]
            .as_table_mut()
            .unwrap()
            .insert("peers".into(), toml::Value::Array(peers.clone()));
    });
    let foreign_log = other.path().join("foreign.log");
    let mut foreign = Command::new(env!("CARGO_BIN_EXE_jinlian"))
        .args(["node", "--config", other_chain.join("nodes/node0/config.toml").to_str().unwrap()])
        .stderr(std::fs::File::create(&foreign_log).unwrap())
        .spawn()
        .unwrap();
    // The banned node, with every sealer as peer.
    let mut banned = Command::new(env!("CARGO_BIN_EXE_jinlian"))
        .args(["node", "--config", banned_dir.join("config.toml").to_str().unwrap()])
        .stderr(std::fs::File::create(net.dir.path().join("banned.log")).unwrap())
        .spawn()
        .unwrap();

    let user = KeyPair::from_secret(suite, &[3; 32]).unwrap();
    let txs = net.send(&user, 0, 5);
    net.wait_for("receipts", 60, |net| net.has_receipts(0, &txs));
    net.wait_for("the refusals in the logs", 30, |net| {
        let all: String = (0..4).map(|i| net.log(i)).collect();
        all.contains("refused a peer at the TLS handshake") && all.contains("on the blacklist")
    });
    // Neither got a block of ours.
    let banned_rpc = banned_cfg.rpc.listen;
    assert_eq!(rpc(banned_rpc, "eth_blockNumber", json!([])).unwrap(), "0x0");
    let foreign_cfg = NodeConfig::load(&other_chain.join("nodes/node0/config.toml")).unwrap();
    let theirs =
        rpc(foreign_cfg.rpc.listen, "eth_getBlockByNumber", json!(["0x1", false])).unwrap();
    assert!(theirs.is_null(), "the foreign node got a block: {theirs}");
    foreign.kill().unwrap();
    banned.kill().unwrap();
    let _ = foreign.wait();
    let _ = banned.wait();
}

type Tls = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

/// A TLS connection to a node, as the (valid) node of `dir`, after its hello.
fn connect_as(dir: &std::path::Path, to: &str) -> Tls {
    let cfg = NodeConfig::load(&dir.join("config.toml")).unwrap();
    let key =
        jinlian_crypto::KeyFile::parse(&std::fs::read_to_string(&cfg.node.key).unwrap()).unwrap();
    let mut s = tls_as(dir, to);
    let ekm = jinlian_node::net::exported_key_material(&s.conn).unwrap();
    s.write_all(&jinlian_node::net::hello_frame(&key, &ekm, true).encode()).unwrap();
    s.flush().unwrap();
    s
}

/// A TLS connection to a node with the certificate of the node of `dir`, before any frame.
fn tls_as(dir: &std::path::Path, to: &str) -> Tls {
    let cfg = NodeConfig::load(&dir.join("config.toml")).unwrap();
    let read = |p: &std::path::Path| std::fs::read_to_string(p).unwrap();
    let id = TlsIdentity::from_pem(
        &read(&cfg.tls.cert),
        &read(&cfg.tls.agency),
        &read(&cfg.tls.key),
        &read(&cfg.tls.ca),
    )
    .unwrap();
    let conn = rustls::ClientConnection::new(
        id.client_config().unwrap(),
        rustls::pki_types::ServerName::try_from("node.jinlian").unwrap(),
    )
    .unwrap();
    let tcp = TcpStream::connect(to).unwrap();
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
    let mut s = rustls::StreamOwned::new(conn, tcp);
    // Drive the handshake.
    while s.conn.is_handshaking() {
        s.conn.complete_io(&mut s.sock).unwrap();
    }
    s
}

/// Whether the node closes the connection within 20 s (a read returns EOF or a reset; a
/// read timeout is not a close).
fn closed(s: &mut Tls) -> bool {
    use std::io::{ErrorKind, Read};
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut buf = [0u8; 4096];
    while std::time::Instant::now() < deadline {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue, // status frames
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(_) => return true,
        }
    }
    false
}

#[test]
fn hostile_peers_are_dropped_and_the_chain_keeps_committing() {
    for suite in [CryptoSuite::Ecdsa, CryptoSuite::Sm] {
        hostile_peers_are_dropped_and_the_chain_keeps_committing_in(suite);
    }
}

fn hostile_peers_are_dropped_and_the_chain_keeps_committing_in(suite: CryptoSuite) {
    let mut net = Net::generate(4, 0, suite);
    // node0 drops silent peers after 3 s (healthy peers send a status every 2 s).
    set_config(&net.nodes[0].dir.join("config.toml"), |t| {
        t["network"].as_table_mut().unwrap().insert("idle_timeout_secs".into(), 3.into());
    });
    for i in 0..4 {
        net.start_node(i);
    }
    for i in 0..4 {
        net.wait_rpc(i);
    }
    let chain = net.chain_dir();
    let p2p = format!("127.0.0.1:{}", net.unused_port());
    jinlian(&[
        "chain",
        "add-node",
        "--dir",
        chain.to_str().unwrap(),
        "--agency",
        "bankB",
        "--p2p",
        &p2p,
    ]);
    let me = chain.join("nodes/node4");
    let target = p2p_of(&net, 0).replace("0.0.0.0", "127.0.0.1");

    // Oversized length prefix.
    let mut s = connect_as(&me, &target);
    s.write_all(&u32::MAX.to_be_bytes()).unwrap();
    s.flush().unwrap();
    assert!(closed(&mut s));
    // A frame of another protocol version.
    let mut s = connect_as(&me, &target);
    s.write_all(&[0, 0, 0, 6, 99, 0, 0, 0, 1, 1]).unwrap();
    s.flush().unwrap();
    assert!(closed(&mut s));
    // Well-framed consensus bytes that do not decode: dropped.
    let mut s = connect_as(&me, &target);
    let f =
        jinlian_node::wire::Frame::new(1, jinlian_node::wire::Module::Consensus, vec![0xde, 0xad]);
    s.write_all(&f.encode()).unwrap();
    s.flush().unwrap();
    assert!(closed(&mut s));
    // A well-formed vote for the current height, claiming to be sealer 0, signed by us (not
    // sealer 0): dropped.
    let next = net.height(0).unwrap() + 1;
    let vote = jinlian_consensus::Message::Prepare(jinlian_consensus::Prepare {
        height: jinlian_primitives::Height(next),
        view: jinlian_primitives::View(0),
        hash: alloy_primitives::B256::repeat_byte(1),
    });
    let cfg = NodeConfig::load(&me.join("config.toml")).unwrap();
    let my_key =
        jinlian_crypto::KeyFile::parse(&std::fs::read_to_string(&cfg.node.key).unwrap()).unwrap();
    let forged = jinlian_consensus::SignedMessage::sign(&vote, 0, &my_key);
    let mut s = connect_as(&me, &target);
    let f = jinlian_node::wire::Frame::new(
        1,
        jinlian_node::wire::Module::Consensus,
        forged.encode_to_vec(),
    );
    s.write_all(&f.encode()).unwrap();
    s.flush().unwrap();
    assert!(closed(&mut s));
    // The certificate of node4 without its key: a hello signed by another key is refused.
    let mut s = tls_as(&me, &target);
    let ekm = jinlian_node::net::exported_key_material(&s.conn).unwrap();
    let other = KeyPair::from_secret(suite, &[9; 32]).unwrap();
    s.write_all(&jinlian_node::net::hello_frame(&other, &ekm, true).encode()).unwrap();
    s.flush().unwrap();
    assert!(closed(&mut s));
    // A hello made for another TLS session (replayed) is refused too.
    let mut s = tls_as(&me, &target);
    s.write_all(&jinlian_node::net::hello_frame(&my_key, &[7; 32], true).encode()).unwrap();
    s.flush().unwrap();
    assert!(closed(&mut s));
    // A valid frame before the hello is refused.
    let mut s = tls_as(&me, &target);
    let status = jinlian_node::wire::Frame::new(1, jinlian_node::wire::Module::Status, vec![0xc0]);
    s.write_all(&status.encode()).unwrap();
    s.flush().unwrap();
    assert!(closed(&mut s));
    // Gossip carrying bytes that are no transaction (honest nodes pass on only what they
    // checked): dropped.
    let mut s = connect_as(&me, &target);
    let forged = vec![0xde, 0xad, 0xbe, 0xef];
    let payload = alloy_rlp::encode(&jinlian_node::wire::Txs { txs: vec![forged.into()] });
    let f = jinlian_node::wire::Frame::new(1, jinlian_node::wire::Module::Txs, payload);
    s.write_all(&f.encode()).unwrap();
    s.flush().unwrap();
    assert!(closed(&mut s));
    // Random bytes without any framing sense.
    let mut g = TcpStream::connect(&target).unwrap();
    g.write_all(&[0x16, 0x03, 0x01, 0xff, 0xff, 1, 2, 3]).unwrap();

    let user = KeyPair::from_secret(suite, &[4; 32]).unwrap();
    let txs = net.send(&user, 0, 5);
    net.wait_for("commits while hostile peers come and go", 60, |net| net.has_receipts(0, &txs));
    // A silent connection is dropped after the idle timeout. (It is the same node id as the
    // connections above: the node keeps one connection per node, so this comes last.)
    let mut silent = connect_as(&me, &target);
    let opened = std::time::Instant::now();
    assert!(closed(&mut silent));
    let waited = opened.elapsed();
    assert!(waited >= std::time::Duration::from_secs(2), "dropped too early: {waited:?}");
    let log = net.log(0);
    assert!(log.contains("over the limit"), "oversized frame not reported");
    assert!(log.contains("unknown protocol version"), "bad version not reported");
    assert!(
        log.contains("bad consensus message"),
        "garbage or forged consensus message not reported"
    );
    assert!(log.contains("not a sealer"), "a non-sealer's vote not reported");
    assert!(log.contains("silent for 3 s"), "silent peer not reported");
    assert!(
        log.contains("hello is not signed by the node key its certificate names"),
        "a peer without the key of its certificate's node id not reported"
    );
    assert!(log.contains("not a hello"), "a frame before the hello not reported");
    assert!(log.contains("of a gossip frame"), "a forged gossiped transaction not reported");
    // The healthy sealers were never dropped for silence.
    net.assert_no_fork();
}
