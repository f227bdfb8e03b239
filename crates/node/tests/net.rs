//! The peer network on its own (`jinlian_node::net`): peers admit each other only after a
//! hello signed by the node key their certificate names, and a peer that stops reading cannot
//! make a node queue more than the per-peer byte limit.

#![allow(clippy::unwrap_used)]

use jinlian_crypto::{CryptoSuite, KeyPair};
use jinlian_node::net::{self, NetConfig, NetEvent, NetHandle, PeerId};
use jinlian_node::pki::*;
use jinlian_node::wire::{Frame, Module};
use rustls::pki_types::ServerName;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

struct Chain {
    ca: PemPair,
    agency: PemPair,
}

fn node(c: &Chain, n: u8, suite: CryptoSuite) -> (TlsIdentity, KeyPair) {
    let key = KeyPair::from_secret(suite, &[n; 32]).unwrap();
    let cert = new_node_cert(&c.agency, &format!("node{n}"), &key.public().0).unwrap();
    (TlsIdentity::from_pem(&cert.cert, &c.agency.cert, &cert.key, &c.ca.cert).unwrap(), key)
}

async fn start(
    identity: TlsIdentity,
    key: KeyPair,
    peers: Vec<String>,
) -> (NetHandle, mpsc::Receiver<NetEvent>) {
    let (tx, rx) = mpsc::channel();
    let cfg = NetConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        peers,
        identity,
        key,
        blacklist: Default::default(),
        whitelist: Default::default(),
        max_frame: 4 * 1024 * 1024,
        idle_timeout: Duration::from_secs(30),
    };
    let tx = std::sync::Mutex::new(tx);
    let h = net::start(cfg, move |ev| {
        let _ = tx.lock().unwrap().send(ev);
    })
    .await
    .unwrap();
    (h, rx)
}

/// Waits (without blocking the runtime) for a peer to come up; `None` after `secs`.
async fn up(rx: &mpsc::Receiver<NetEvent>, secs: u64) -> Option<PeerId> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        while let Ok(ev) = rx.try_recv() {
            if let NetEvent::Up(id) = ev {
                return Some(id);
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

/// A raw TLS connection to `addr` with `identity`, after sending a hello signed by `signer`.
async fn raw_peer(
    identity: &TlsIdentity,
    signer: &KeyPair,
    addr: std::net::SocketAddr,
) -> tokio_rustls::client::TlsStream<TcpStream> {
    let connector = tokio_rustls::TlsConnector::from(identity.client_config().unwrap());
    let tcp = TcpStream::connect(addr).await.unwrap();
    let mut tls =
        connector.connect(ServerName::try_from("node.jinlian").unwrap(), tcp).await.unwrap();
    let ekm = net::exported_key_material(tls.get_ref().1).unwrap();
    tls.write_all(&net::hello_frame(signer, &ekm, true).encode()).await.unwrap();
    tls.flush().await.unwrap();
    tls
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_admit_each_other_only_with_the_key_of_their_certificate() {
    for suite in [CryptoSuite::Ecdsa, CryptoSuite::Sm] {
        let ca = new_chain_ca("c").unwrap();
        let c = Chain { agency: new_agency_ca(&ca, "bank-a").unwrap(), ca };
        let (id_a, key_a) = node(&c, 1, suite);
        let (id_b, key_b) = node(&c, 2, suite);
        let (a, rx_a) = start(id_a, key_a.clone(), vec![]).await;
        let (_b, rx_b) = start(id_b, key_b.clone(), vec![a.local_addr.to_string()]).await;
        assert_eq!(up(&rx_a, 10).await, Some(key_b.public().0), "A sees B");
        assert_eq!(up(&rx_b, 10).await, Some(key_a.public().0), "B sees A");

        // Node 3's certificate, but a hello signed by another key: never admitted.
        let (id_c, _key_c) = node(&c, 3, suite);
        let impostor = KeyPair::from_secret(suite, &[9; 32]).unwrap();
        let _conn = raw_peer(&id_c, &impostor, a.local_addr).await;
        assert_eq!(up(&rx_a, 2).await, None, "a peer without its certificate's key was admitted");
        assert!(!a.connected().contains(&id_c.node_id));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_stops_reading_cannot_grow_the_send_queue() {
    let ca = new_chain_ca("c").unwrap();
    let c = Chain { agency: new_agency_ca(&ca, "bank-a").unwrap(), ca };
    let (id_a, key_a) = node(&c, 1, CryptoSuite::Ecdsa);
    let (id_c, key_c) = node(&c, 3, CryptoSuite::Ecdsa);
    let (a, rx_a) = start(id_a, key_a, vec![]).await;
    // A peer that completes the hello and then never reads.
    let _slow = raw_peer(&id_c, &key_c, a.local_addr).await;
    let peer = up(&rx_a, 10).await.unwrap();
    let frame = Frame::new(1, Module::Status, vec![0u8; 1024 * 1024]);
    let mut most = 0;
    for _ in 0..300 {
        a.send(&peer, &frame);
        most = most.max(a.queued_bytes(&peer));
    }
    assert!(
        most <= net::SEND_QUEUE_BYTES,
        "{most} bytes queued for a peer that does not read (limit {})",
        net::SEND_QUEUE_BYTES
    );
    // What the socket buffers took aside, the queue filled up to its limit.
    assert!(most >= net::SEND_QUEUE_BYTES / 2, "only {most} bytes were ever queued");
}

#[test]
fn gossip_frames_of_too_many_items_are_refused_before_decoding() {
    use jinlian_node::wire::{MAX_TXS_PER_FRAME, Txs};
    // A list of many one-byte items: each would be an allocation if decoded.
    let items = vec![0x01u8; MAX_TXS_PER_FRAME + 1];
    let mut inner = Vec::new();
    alloy_rlp::Header { list: true, payload_length: items.len() }.encode(&mut inner);
    inner.extend_from_slice(&items);
    let mut payload = Vec::new();
    alloy_rlp::Header { list: true, payload_length: inner.len() }.encode(&mut payload);
    payload.extend_from_slice(&inner);
    let e = Txs::decode(&payload).unwrap_err();
    assert!(e.to_string().contains("too many"), "{e}");
    // At the limit it decodes; a truncated list does not.
    let ok = Txs { txs: vec![alloy_primitives::Bytes::from(vec![1u8]); MAX_TXS_PER_FRAME] };
    let bytes = alloy_rlp::encode(&ok);
    assert_eq!(Txs::decode(&bytes).unwrap(), ok);
    assert!(Txs::decode(&bytes[..bytes.len() - 1]).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_settled_connection_is_not_replaced_when_the_peer_connects_again() {
    let ca = new_chain_ca("c").unwrap();
    let c = Chain { agency: new_agency_ca(&ca, "bank-a").unwrap(), ca };
    let (id_a, key_a) = node(&c, 1, CryptoSuite::Ecdsa);
    let (id_b, key_b) = node(&c, 2, CryptoSuite::Ecdsa);
    let (a, rx_a) = start(id_a, key_a, vec![]).await;
    let (_b, rx_b) = start(id_b.clone(), key_b.clone(), vec![a.local_addr.to_string()]).await;
    let b_id = up(&rx_a, 10).await.unwrap();
    tokio::time::sleep(net::SETTLED + Duration::from_millis(500)).await;
    // The same node (its certificate and key) connects again, as a redial would: frames for
    // it must keep flowing on the settled connection, or the ones in flight are lost.
    let _second = raw_peer(&id_b, &key_b, a.local_addr).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    while rx_b.try_recv().is_ok() {}
    a.send(&b_id, &Frame::new(1, Module::Status, vec![7u8; 8]));
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut got = false;
    while Instant::now() < deadline && !got {
        while let Ok(ev) = rx_b.try_recv() {
            if let NetEvent::Frame(_, f) = ev
                && f.payload.as_ref() == [7u8; 8]
            {
                got = true;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(got, "the frame went to the new connection, not the one the node uses");
}
