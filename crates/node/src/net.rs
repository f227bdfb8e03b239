//! The peer-to-peer network: TLS 1.3 connections between nodes of one chain, one per peer,
//! carrying length-prefixed frames ([`crate::wire`]).
//!
//! - Admission: the peer's certificate chain must end at our chain CA (checked in the
//!   handshake); its node id (from the certificate) must not be ours, must not be on the
//!   blacklist, and must be on the whitelist if one is set. Then both sides prove they hold
//!   the node key their certificate names: the first frame each sends is a `Hello`, its
//!   signature over key material exported from this TLS session (RFC 5705/8446 exporter),
//!   so it cannot be replayed on another connection. Without this an agency could issue a
//!   certificate carrying another organisation's node id and take over that node's
//!   connection slot. A refused peer is logged with the reason and gets nothing.
//! - One connection per peer: when both sides dial each other at once, the connection
//!   dialled by the smaller node id is kept; a connection up for [`SETTLED`] is never
//!   replaced by a new one to the same peer (replacing it would lose the frames in flight on
//!   it, consensus votes among them, and stall consensus until a view change).
//! - Limits: handshakes must finish in 10 s; a frame longer than the maximum, a malformed
//!   frame, or silence (30 s by default; peers send a status every 2 s) drops the
//!   connection, as does misbehaviour the node reports ([`NetHandle::disconnect`]); at most
//!   [`MAX_PEERS`] connections; each peer has a send queue bounded in frames and in bytes
//!   (a slow peer loses messages rather than holding memory), and a peer that does not
//!   take a frame within [`WRITE_STALL`] is dropped.
//! - Dialling: every configured address is dialled with back-off (1 s doubling to 30 s) and
//!   redialled after a disconnect; an address whose node is already connected is not.

use crate::pki::TlsIdentity;
use crate::wire::Frame;
use alloy_primitives::Bytes;
use anyhow::{Context, Result};
use jinlian_crypto::{CryptoSuite, KeyPair, PublicKey, Signature};
use rustls::pki_types::ServerName;
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

/// A peer's node id.
pub type PeerId = [u8; 64];

/// Most simultaneous connections.
pub const MAX_PEERS: usize = 128;
/// Frames queued for one peer before new ones are dropped.
pub const SEND_QUEUE: usize = 4096;
/// Bytes queued for one peer before new frames are dropped (at least four largest frames).
pub const SEND_QUEUE_BYTES: usize = 64 * 1024 * 1024;
/// A peer that does not read a frame for this long is dropped.
pub const WRITE_STALL: Duration = Duration::from_secs(30);
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// A connection that delivered no frame for this long is not kept in favour of a new one
/// from the same peer (statuses come every 2 s, keepalives every 10 s).
const QUIET_MS: u64 = 15_000;

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A connection up this long is kept when the same peer connects again. Well below the
/// first redial (dialling backs off from 1 s, doubling), so both sides of a redial see the
/// old connection as settled and keep the same one; well above the spread of two
/// simultaneous handshakes.
pub const SETTLED: Duration = Duration::from_millis(500);

/// TLS exporter label of the key material a `Hello` signs.
pub const HELLO_EXPORTER_LABEL: &[u8] = b"EXPORTER-jinlian-node-key";
/// Largest `Hello` payload (an SM2 signature with its public key is 128 bytes).
const MAX_HELLO: usize = 256;

/// What a `Hello` signs: the session's exported key material and which side signs it (so
/// a peer cannot reflect our own `Hello` back at us).
pub fn hello_digest(suite: CryptoSuite, ekm: &[u8; 32], dialer: bool) -> alloy_primitives::B256 {
    suite.hash_parts(&[b"jinlian hello v1", ekm, &[u8::from(dialer)]])
}

/// The `Hello` frame proving that the sender holds `key` on the TLS session whose exported
/// key material is `ekm`; `dialer` is whether the sender opened the connection.
pub fn hello_frame(key: &KeyPair, ekm: &[u8; 32], dialer: bool) -> Frame {
    let sig = key.sign(&hello_digest(key.suite(), ekm, dialer));
    Frame::new(0, crate::wire::Module::Hello, sig.to_bytes())
}

/// Key material exported from an established TLS session, for [`hello_frame`].
pub fn exported_key_material<D>(conn: &rustls::ConnectionCommon<D>) -> Option<[u8; 32]> {
    conn.export_keying_material([0u8; 32], HELLO_EXPORTER_LABEL, None).ok()
}

/// What the network tells the node.
#[derive(Debug, Clone)]
pub enum NetEvent {
    /// A peer connected (and passed admission).
    Up(PeerId),
    /// A peer disconnected.
    Down(PeerId),
    /// A frame from a peer.
    Frame(PeerId, Frame),
}

/// Network settings.
#[derive(Debug, Clone)]
pub struct NetConfig {
    /// Where to listen.
    pub listen: SocketAddr,
    /// Addresses to dial.
    pub peers: Vec<String>,
    /// Our TLS identity.
    pub identity: TlsIdentity,
    /// Our node key (the one the certificate names), to sign the `Hello`.
    pub key: KeyPair,
    /// Refused node ids.
    pub blacklist: HashSet<PeerId>,
    /// If not empty, the only admitted node ids.
    pub whitelist: HashSet<PeerId>,
    /// Largest frame accepted.
    pub max_frame: usize,
    /// A peer silent this long is dropped (peers send a status every 2 s).
    pub idle_timeout: Duration,
}

struct Conn {
    id: u64,
    /// Who dialled: true if we did.
    outbound: bool,
    /// When it was admitted.
    since: std::time::Instant,
    /// When it last delivered a frame (ms since the Unix epoch).
    last_read: Arc<AtomicU64>,
    tx: mpsc::Sender<Bytes>,
    /// Bytes queued and not yet written.
    queued: Arc<AtomicUsize>,
    close: tokio::sync::watch::Sender<bool>,
    kick: tokio::sync::watch::Sender<bool>,
}

struct Shared {
    me: PeerId,
    peers: Mutex<HashMap<PeerId, Conn>>,
    next_conn: AtomicU64,
    events: Box<dyn Fn(NetEvent) + Send + Sync>,
    cfg: NetConfig,
}

/// Sends frames to peers; cheap to clone, usable from any thread.
#[derive(Clone)]
pub struct NetHandle {
    shared: Arc<Shared>,
    /// The address actually listened on.
    pub local_addr: SocketAddr,
}

impl std::fmt::Debug for NetHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetHandle").field("local_addr", &self.local_addr).finish_non_exhaustive()
    }
}

fn short(id: &PeerId) -> String {
    alloy_primitives::hex::encode(&id[..6])
}

impl Conn {
    /// Queues bytes unless the queue is full (in frames or in bytes).
    fn enqueue(&self, bytes: Bytes, limit: usize) -> bool {
        let len = bytes.len();
        if self.queued.fetch_add(len, Ordering::AcqRel) + len > limit {
            self.queued.fetch_sub(len, Ordering::AcqRel);
            return false;
        }
        if self.tx.try_send(bytes).is_err() {
            self.queued.fetch_sub(len, Ordering::AcqRel);
            return false;
        }
        true
    }
}

impl NetHandle {
    fn queue_limit(&self) -> usize {
        SEND_QUEUE_BYTES.max(4 * self.shared.cfg.max_frame)
    }

    /// Queues a frame for one peer (dropped if the peer is gone or its queue is full).
    pub fn send(&self, to: &PeerId, frame: &Frame) {
        let bytes = Bytes::from(frame.encode());
        if let Ok(peers) = self.shared.peers.lock()
            && let Some(c) = peers.get(to)
            && !c.enqueue(bytes, self.queue_limit())
        {
            debug!(peer = %short(to), "send queue full; frame dropped");
        }
    }

    /// Queues a frame for each of `to` that is connected.
    pub fn send_many<'a>(&self, to: impl IntoIterator<Item = &'a PeerId>, frame: &Frame) {
        let bytes = Bytes::from(frame.encode());
        if let Ok(peers) = self.shared.peers.lock() {
            for id in to {
                if let Some(c) = peers.get(id)
                    && !c.enqueue(bytes.clone(), self.queue_limit())
                {
                    debug!(peer = %short(id), "send queue full; frame dropped");
                }
            }
        }
    }

    /// Bytes queued for a peer and not yet written (0 if not connected).
    pub fn queued_bytes(&self, peer: &PeerId) -> usize {
        self.shared
            .peers
            .lock()
            .ok()
            .and_then(|p| p.get(peer).map(|c| c.queued.load(Ordering::Acquire)))
            .unwrap_or(0)
    }

    /// Drops the connection to a peer (it misbehaved); it may connect again later.
    pub fn disconnect(&self, peer: &PeerId) {
        if let Ok(peers) = self.shared.peers.lock()
            && let Some(c) = peers.get(peer)
        {
            let _ = c.kick.send(true);
        }
    }

    /// Node ids of the connected peers.
    pub fn connected(&self) -> Vec<PeerId> {
        self.shared.peers.lock().map(|p| p.keys().copied().collect()).unwrap_or_default()
    }
}

/// Starts listening and dialling. `events` receives what happens (it must not block).
pub async fn start(
    cfg: NetConfig,
    events: impl Fn(NetEvent) + Send + Sync + 'static,
) -> Result<NetHandle> {
    let listener = TcpListener::bind(cfg.listen)
        .await
        .with_context(|| format!("cannot listen for peers on {}", cfg.listen))?;
    let local_addr = listener.local_addr()?;
    let shared = Arc::new(Shared {
        me: cfg.identity.node_id,
        peers: Mutex::new(HashMap::new()),
        next_conn: AtomicU64::new(1),
        events: Box::new(events),
        cfg,
    });
    let acceptor = tokio_rustls::TlsAcceptor::from(shared.cfg.identity.server_config()?);
    let s = shared.clone();
    tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((tcp, addr)) => {
                    let count = s.peers.lock().map(|p| p.len()).unwrap_or(MAX_PEERS);
                    if count >= MAX_PEERS {
                        debug!(%addr, "too many peers; connection refused");
                        continue;
                    }
                    let (s, acceptor) = (s.clone(), acceptor.clone());
                    tokio::spawn(async move {
                        let _ = tcp.set_nodelay(true);
                        match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                            Ok(Ok(tls)) => {
                                let conn = tls.get_ref().1;
                                let certs = conn.peer_certificates().map(|c| c.to_vec());
                                let ekm = exported_key_material(conn);
                                run_conn(s, tls, certs, ekm, false, addr.to_string()).await;
                            }
                            Ok(Err(e)) => warn!(%addr, "refused a peer at the TLS handshake: {e}"),
                            Err(_) => debug!(%addr, "TLS handshake timed out"),
                        }
                    });
                }
                Err(e) => {
                    warn!("accepting a peer failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    });
    let connector = tokio_rustls::TlsConnector::from(shared.cfg.identity.client_config()?);
    for addr in shared.cfg.peers.clone() {
        tokio::spawn(dial_loop(shared.clone(), connector.clone(), addr));
    }
    Ok(NetHandle { shared, local_addr })
}

async fn dial_loop(s: Arc<Shared>, connector: tokio_rustls::TlsConnector, addr: String) {
    let mut backoff = Duration::from_secs(1);
    let mut known: Option<PeerId> = None;
    loop {
        let connected =
            known.is_some_and(|id| s.peers.lock().map(|p| p.contains_key(&id)).unwrap_or(false));
        if !connected {
            let attempt = async {
                let tcp = TcpStream::connect(&addr).await?;
                let _ = tcp.set_nodelay(true);
                let name = ServerName::try_from("node.jinlian")
                    .map_err(|e| std::io::Error::other(e.to_string()))?;
                connector.connect(name, tcp).await
            };
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, attempt).await {
                Ok(Ok(tls)) => {
                    let conn = tls.get_ref().1;
                    let certs = conn.peer_certificates().map(|c| c.to_vec());
                    let ekm = exported_key_material(conn);
                    let began = std::time::Instant::now();
                    // Only a node that proved its id is taken as the one at this address.
                    if let Some(id) = run_conn(s.clone(), tls, certs, ekm, true, addr.clone()).await
                    {
                        known = Some(id);
                    }
                    // A connection that ended at once (refused, another chain, a duplicate)
                    // is retried with growing back-off, not every second.
                    backoff = if began.elapsed() > Duration::from_secs(10) {
                        Duration::from_secs(1)
                    } else {
                        (backoff * 2).min(Duration::from_secs(30))
                    };
                }
                Ok(Err(e)) => {
                    debug!(%addr, "dialling failed: {e}");
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                }
                Err(_) => {
                    debug!(%addr, "dialling timed out");
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                }
            }
        }
        tokio::time::sleep(backoff).await;
    }
}

/// Admission after the handshake; `None` if refused (logged).
fn admit(
    s: &Shared,
    certs: Option<Vec<rustls::pki_types::CertificateDer<'static>>>,
    addr: &str,
) -> Option<PeerId> {
    let Some(cert) = certs.and_then(|c| c.into_iter().next()) else {
        warn!(%addr, "refused a peer without a certificate");
        return None;
    };
    let id = match crate::pki::node_id_of(&cert) {
        Ok(id) => id,
        Err(e) => {
            warn!(%addr, "refused a peer: {e}");
            return None;
        }
    };
    let shown = PublicKey(id);
    if id == s.me {
        debug!(%addr, "connected to ourselves; closing");
        return None;
    }
    if s.cfg.blacklist.contains(&id) {
        warn!(%addr, node = %shown, "refused a peer: its node id is on the blacklist");
        return None;
    }
    if !s.cfg.whitelist.is_empty() && !s.cfg.whitelist.contains(&id) {
        warn!(%addr, node = %shown, "refused a peer: its node id is not on the whitelist");
        return None;
    }
    Some(id)
}

/// Reads one frame (length checked against `max` before the body is read).
async fn read_frame<R: AsyncRead + Unpin>(reader: &mut R, max: usize) -> Result<Frame, String> {
    let mut len = [0u8; 4];
    reader.read_exact(&mut len).await.map_err(|e| match e.kind() {
        // Between frames: the peer closed the connection (with or without TLS close_notify).
        std::io::ErrorKind::UnexpectedEof => "connection closed".to_string(),
        _ => e.to_string(),
    })?;
    let len = Frame::check_len(u32::from_be_bytes(len), max).map_err(|e| e.to_string())?;
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body).await.map_err(|e| e.to_string())?;
    Frame::decode_body(&body).map_err(|e| e.to_string())
}

/// Sends our `Hello` and checks the peer's: it must be the first frame, arrive within the
/// handshake timeout and be signed by the node key the certificate names.
async fn exchange_hellos<S: AsyncRead + AsyncWrite + Unpin>(
    s: &Shared,
    stream: &mut S,
    ekm: &[u8; 32],
    outbound: bool,
    peer: &PeerId,
) -> Result<(), String> {
    let suite = s.cfg.key.suite();
    let mine = hello_frame(&s.cfg.key, ekm, outbound).encode();
    let exchange = async {
        stream.write_all(&mine).await.map_err(|e| e.to_string())?;
        stream.flush().await.map_err(|e| e.to_string())?;
        read_frame(stream, crate::wire::HEADER + MAX_HELLO).await
    };
    let frame = tokio::time::timeout(HANDSHAKE_TIMEOUT, exchange)
        .await
        .map_err(|_| "no hello within the handshake timeout".to_string())??;
    if frame.module != crate::wire::Module::Hello {
        return Err(format!("first frame is {:?}, not a hello", frame.module));
    }
    let sig = Signature::from_bytes(suite, &frame.payload)
        .map_err(|e| format!("malformed hello: {e}"))?;
    suite
        .verify(&hello_digest(suite, ekm, !outbound), &sig, &PublicKey(*peer))
        .map_err(|_| "its hello is not signed by the node key its certificate names".to_string())
}

/// Runs one connection to its end; returns the peer's node id if it proved it.
async fn run_conn<S>(
    s: Arc<Shared>,
    mut stream: S,
    certs: Option<Vec<rustls::pki_types::CertificateDer<'static>>>,
    ekm: Option<[u8; 32]>,
    outbound: bool,
    addr: String,
) -> Option<PeerId>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let id = admit(&s, certs, &addr)?;
    let Some(ekm) = ekm else {
        warn!(%addr, "refused a peer: no key material could be exported from the TLS session");
        return None;
    };
    if let Err(e) = exchange_hellos(&s, &mut stream, &ekm, outbound, &id).await {
        warn!(%addr, node = %PublicKey(id), "refused a peer: {e}");
        return None;
    }
    let conn_id = s.next_conn.fetch_add(1, Ordering::Relaxed);
    let last_read = Arc::new(AtomicU64::new(now_ms()));
    let (tx, mut rx) = mpsc::channel::<Bytes>(SEND_QUEUE);
    let queued = Arc::new(AtomicUsize::new(0));
    let (close_tx, mut close_rx) = tokio::sync::watch::channel(false);
    let (kick_tx, mut kick) = tokio::sync::watch::channel(false);
    {
        let Ok(mut peers) = s.peers.lock() else { return Some(id) };
        // A settled connection stays; between two new ones (both sides dialled at once),
        // the one dialled by the smaller node id is kept, so both sides keep the same one.
        let preferred = |outbound: bool| (outbound && s.me < id) || (!outbound && id < s.me);
        // Settled: up a while and still hearing from the peer (keepalives come every 10 s),
        // so a peer that restarted behind a half-open connection gets through at once.
        let settled = |c: &Conn| {
            c.since.elapsed() >= SETTLED
                && now_ms().saturating_sub(c.last_read.load(Ordering::Relaxed)) < QUIET_MS
        };
        if let Some(existing) = peers.get(&id)
            && (settled(existing) || (preferred(existing.outbound) && !preferred(outbound)))
        {
            debug!(peer = %short(&id), "duplicate connection closed");
            return Some(id);
        }
        let conn = Conn {
            id: conn_id,
            outbound,
            since: std::time::Instant::now(),
            last_read: last_read.clone(),
            tx,
            queued: queued.clone(),
            close: close_tx,
            kick: kick_tx,
        };
        if let Some(old) = peers.insert(id, conn) {
            let _ = old.close.send(true);
        }
    }
    info!(peer = %short(&id), %addr, outbound, "peer connected");
    (s.events)(NetEvent::Up(id));
    let (mut reader, mut writer) = tokio::io::split(stream);
    let mut close_w = close_rx.clone();
    let mut writer_task = tokio::spawn(async move {
        let why = loop {
            tokio::select! {
                msg = rx.recv() => {
                    let Some(msg) = msg else { break "closed" };
                    let write = async {
                        writer.write_all(&msg).await?;
                        writer.flush().await
                    };
                    match tokio::time::timeout(WRITE_STALL, write).await {
                        Ok(Ok(())) => {}
                        Ok(Err(_)) => break "writing failed",
                        Err(_) => break "it stopped reading",
                    }
                    queued.fetch_sub(msg.len(), Ordering::AcqRel);
                }
                Ok(()) = close_w.changed() => break "closed",
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(1), writer.shutdown()).await;
        why
    });
    let max = s.cfg.max_frame;
    let idle = s.cfg.idle_timeout;
    let reason: String = loop {
        tokio::select! {
            r = tokio::time::timeout(idle, read_frame(&mut reader, max)) => match r {
                Ok(Ok(frame)) if frame.module == crate::wire::Module::Hello => {
                    break "a second hello".to_string()
                }
                                Ok(Ok(frame)) => {
                    last_read.store(now_ms(), Ordering::Relaxed);
                    (s.events)(NetEvent::Frame(id, frame))
                }
                Ok(Err(e)) => break e,
                Err(_) => break format!("silent for {} s", idle.as_secs()),
            },
            Ok(()) = kick.changed() => break "dropped for misbehaving".to_string(),
            w = &mut writer_task => break w.unwrap_or("writer failed").to_string(),
            Ok(()) = close_rx.changed() => break "replaced by another connection".to_string(),
        }
    };
    writer_task.abort();
    let removed = match s.peers.lock() {
        Ok(mut peers) if peers.get(&id).is_some_and(|c| c.id == conn_id) => {
            peers.remove(&id);
            true
        }
        _ => false,
    };
    if removed {
        info!(peer = %short(&id), %addr, "peer disconnected: {reason}");
    } else {
        debug!(peer = %short(&id), %addr, "duplicate connection closed: {reason}");
    }
    if removed {
        (s.events)(NetEvent::Down(id));
    }
    Some(id)
}
