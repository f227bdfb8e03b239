//! Mutual TLS between nodes of one chain: both ends learn the other's node id from its
//! verified certificate; a node certified under another chain CA is refused at the handshake.

#![allow(clippy::unwrap_used)]

use jinlian_crypto::{CryptoSuite, KeyPair};
use jinlian_node::pki::*;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

struct Chain {
    ca: PemPair,
    agency: PemPair,
}

fn chain(name: &str) -> Chain {
    let ca = new_chain_ca(name).unwrap();
    let agency = new_agency_ca(&ca, "bank-a").unwrap();
    Chain { ca, agency }
}

fn identity(c: &Chain, n: u8, suite: CryptoSuite) -> (TlsIdentity, [u8; 64]) {
    let key = KeyPair::from_secret(suite, &[n; 32]).unwrap();
    let id = key.public().0;
    let node = new_node_cert(&c.agency, &format!("node{n}"), &id).unwrap();
    (TlsIdentity::from_pem(&node.cert, &c.agency.cert, &node.key, &c.ca.cert).unwrap(), id)
}

/// Runs one handshake; returns (what the server saw, what the client saw) as node ids.
async fn handshake(
    server: &TlsIdentity,
    client: &TlsIdentity,
) -> (Result<[u8; 64], String>, Result<[u8; 64], String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(server.server_config().unwrap());
    let srv = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut tls = acceptor.accept(tcp).await.map_err(|e| e.to_string())?;
        let peer = tls.get_ref().1.peer_certificates().unwrap()[0].clone();
        let mut buf = [0u8; 4];
        tls.read_exact(&mut buf).await.map_err(|e| e.to_string())?;
        tls.write_all(&buf).await.map_err(|e| e.to_string())?;
        tls.flush().await.map_err(|e| e.to_string())?;
        node_id_of(&peer).map_err(|e| e.to_string())
    });
    let connector = tokio_rustls::TlsConnector::from(client.client_config().unwrap());
    let cli = async {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let name = ServerName::try_from("node.jinlian").unwrap();
        let mut tls = connector.connect(name, tcp).await.map_err(|e| e.to_string())?;
        tls.write_all(b"ping").await.map_err(|e| e.to_string())?;
        let mut buf = [0u8; 4];
        tls.read_exact(&mut buf).await.map_err(|e| e.to_string())?;
        assert_eq!(&buf, b"ping");
        let peer = tls.get_ref().1.peer_certificates().unwrap()[0].clone();
        node_id_of(&peer).map_err(|e| e.to_string())
    };
    let c = cli.await;
    let s = srv.await.unwrap();
    (s, c)
}

#[tokio::test]
async fn nodes_of_one_chain_authenticate_each_other_by_node_id() {
    for suite in [CryptoSuite::Ecdsa, CryptoSuite::Sm] {
        let a = chain("test");
        let (s, sid) = identity(&a, 1, suite);
        let (c, cid) = identity(&a, 2, suite);
        assert_eq!(s.node_id, sid);
        let (seen_by_server, seen_by_client) = handshake(&s, &c).await;
        assert_eq!(seen_by_server.unwrap(), cid);
        assert_eq!(seen_by_client.unwrap(), sid);
    }
}

#[tokio::test]
async fn a_node_of_another_chain_ca_is_refused_at_the_handshake() {
    let a = chain("ours");
    let b = chain("theirs");
    let (s, _) = identity(&a, 1, CryptoSuite::Ecdsa);
    let (stranger, _) = identity(&b, 2, CryptoSuite::Ecdsa);
    let (server_saw, client_saw) = handshake(&s, &stranger).await;
    assert!(server_saw.is_err() && client_saw.is_err(), "{server_saw:?} {client_saw:?}");
    // And the other way round: our node dialling their server refuses it.
    let (their_server, _) = identity(&b, 3, CryptoSuite::Ecdsa);
    let (ours, _) = identity(&a, 4, CryptoSuite::Ecdsa);
    let (server_saw, client_saw) = handshake(&their_server, &ours).await;
    assert!(server_saw.is_err() && client_saw.is_err());
}

#[test]
fn certificates_without_a_node_id_or_from_garbage_are_refused() {
    let a = chain("t");
    // The agency certificate has no node-id extension.
    assert!(
        TlsIdentity::from_pem(&a.agency.cert, &a.agency.cert, &a.agency.key, &a.ca.cert).is_err()
    );
    assert!(TlsIdentity::from_pem("not pem", &a.agency.cert, &a.agency.key, &a.ca.cert).is_err());
    let key = KeyPair::from_secret(CryptoSuite::Ecdsa, &[1; 32]).unwrap();
    let node = new_node_cert(&a.agency, "n", &key.public().0).unwrap();
    assert!(TlsIdentity::from_pem(&node.cert, &a.agency.cert, "garbage", &a.ca.cert).is_err());
    // Files that do not belong together are refused at start, saying which.
    let other_agency = new_agency_ca(&a.ca, "bank-b").unwrap();
    let err = TlsIdentity::from_pem(&node.cert, &other_agency.cert, &node.key, &a.ca.cert)
        .unwrap_err()
        .to_string();
    assert!(err.contains("does not chain to the chain CA"), "{err}");
    let other_chain = chain("other");
    let err = TlsIdentity::from_pem(&node.cert, &a.agency.cert, &node.key, &other_chain.ca.cert)
        .unwrap_err()
        .to_string();
    assert!(err.contains("tls/ca.crt"), "{err}");
    let another = new_node_cert(&a.agency, "m", &key.public().0).unwrap();
    let err = TlsIdentity::from_pem(&node.cert, &a.agency.cert, &another.key, &a.ca.cert)
        .unwrap_err()
        .to_string();
    assert!(err.contains("does not belong to the node certificate"), "{err}");
}
