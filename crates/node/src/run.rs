//! `jinlian node --config FILE`: loads everything, checks it belongs together, starts the
//! network, the RPC and the host thread, and stops cleanly on SIGINT or SIGTERM (or when the
//! host stops on a storage failure).

use crate::config::NodeConfig;
use crate::host::{Host, HostEvent, InboundBudget, NodeLedger, Publish, recover_txs};
use crate::net::{NetConfig, NetEvent, PeerId};
use crate::pki::TlsIdentity;
use crate::rpc::NodeBackend;
use crate::wire::{Frame, Module};
use anyhow::{Context, Result, bail};
use jinlian_crypto::KeyFile;
use jinlian_executor::ExecConfig;
use std::path::Path;
use std::sync::Arc;
use tracing::{debug, error, info};

fn read(path: &Path, what: &str) -> Result<String> {
    std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the {what} {}", path.display()))
}

/// Bytes of peer input that may wait for the host (at least two largest frames).
const INBOUND_BYTES: usize = 256 * 1024 * 1024;

/// Gossip frames waiting for a recovery thread; more are dropped (gossip tolerates loss).
const RECOVERY_QUEUE: usize = 64;

/// Where gossiped transactions go to have their signatures checked.
struct Recovery {
    jobs: std::sync::mpsc::SyncSender<(PeerId, Frame)>,
    budget: Arc<InboundBudget>,
}

/// Bytes of the inbound budget held by one job, given back however the job ends.
struct Held {
    budget: Arc<InboundBudget>,
    n: usize,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.budget.give_back(self.n);
    }
}

impl Recovery {
    /// Queues a frame of transactions, or drops it when the queue or the budget is full.
    fn offer(&self, peer: PeerId, f: Frame) {
        let n = f.payload.len().max(crate::host::MIN_EVENT_COST);
        if !self.budget.try_take(n) {
            debug!("host input over budget; a transactions frame was dropped");
            return;
        }
        if self.jobs.try_send((peer, f)).is_err() {
            self.budget.give_back(n);
            debug!("transaction recovery is busy; a transactions frame was dropped");
        }
    }
}

/// One recovery thread per core, fed through a bounded queue.
fn start_recovery(
    suite: jinlian_crypto::CryptoSuite,
    budget: Arc<InboundBudget>,
    deliver: impl Fn(HostEvent) + Clone + Send + 'static,
) -> Result<Recovery> {
    let (jobs, rx) = std::sync::mpsc::sync_channel::<(PeerId, Frame)>(RECOVERY_QUEUE);
    let rx = Arc::new(std::sync::Mutex::new(rx));
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    for i in 0..workers {
        let (rx, budget, deliver) = (rx.clone(), budget.clone(), deliver.clone());
        std::thread::Builder::new().name(format!("jinlian-recover-{i}")).spawn(move || {
            loop {
                let job = match rx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => return,
                };
                let Ok((peer, f)) = job else { return };
                let _held = Held {
                    budget: budget.clone(),
                    n: f.payload.len().max(crate::host::MIN_EVENT_COST),
                };
                let r = std::panic::catch_unwind(|| recover_txs(suite, &f.payload));
                match r {
                    Ok(Ok(txs)) => deliver(HostEvent::PeerTxs(peer, txs)),
                    Ok(Err(e)) => deliver(HostEvent::Misbehaved(peer, format!("{e:#}"))),
                    Err(_) => deliver(HostEvent::Misbehaved(
                        peer,
                        "a gossip frame crashed transaction recovery".into(),
                    )),
                }
            }
        })?;
    }
    Ok(Recovery { jobs, budget })
}

/// Runs a node until it is told to stop.
pub fn run(config_path: &Path) -> Result<()> {
    let cfg = NodeConfig::load(config_path)?;
    let genesis = crate::genesis::load(&cfg.node.genesis)?;
    let suite = genesis.crypto_suite();
    let key = KeyFile::parse(&read(&cfg.node.key, "node key")?)
        .with_context(|| format!("{} is not a key file", cfg.node.key.display()))?;
    if key.suite() != suite {
        bail!(
            "the node key {} is a {} key but the chain uses {suite}",
            cfg.node.key.display(),
            key.suite()
        );
    }
    let identity = TlsIdentity::from_pem(
        &read(&cfg.tls.cert, "node certificate")?,
        &read(&cfg.tls.agency, "agency certificate")?,
        &read(&cfg.tls.key, "node TLS key")?,
        &read(&cfg.tls.ca, "chain CA certificate")?,
    )?;
    if identity.node_id != key.public().0 {
        bail!(
            "the TLS certificate {} was issued for another node id than the node key {}",
            cfg.tls.cert.display(),
            cfg.node.key.display()
        );
    }
    std::fs::create_dir_all(&cfg.node.data_dir)
        .with_context(|| format!("cannot create {}", cfg.node.data_dir.display()))?;
    let ledger_path = cfg.node.data_dir.join("ledger.redb");
    let ledger =
        Arc::new(NodeLedger::open(&ledger_path, suite).context("cannot open the node's ledger")?);
    ledger.set_state_history(cfg.storage.state_history_blocks);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("jinlian-io")
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let (tx, rx) = std::sync::mpsc::sync_channel::<HostEvent>(65_536);
        let net_tx = tx.clone();
        let inbound =
            Arc::new(InboundBudget::new(INBOUND_BYTES.max(2 * cfg.network.max_frame_bytes)));
        let budget = inbound.clone();
        // Hands an event to the host within the budget; a full queue drops network input
        // (consensus and gossip tolerate loss) rather than block or grow.
        let deliver = move |event: HostEvent| {
            let n = event.peer_bytes();
            if !budget.try_take(n) {
                debug!(bytes = budget.used(), "host input over budget; a peer frame was dropped");
                return;
            }
            if net_tx.try_send(event).is_err() {
                budget.give_back(n);
            }
        };
        let recovery = start_recovery(suite, inbound.clone(), deliver.clone())?;
        let on_net = move |ev: NetEvent| match ev {
            // Transactions are decoded and their signatures checked on recovery threads, in
            // parallel and off the network's; the host only applies the pool's rules.
            NetEvent::Frame(peer, f) if f.module == Module::Txs => recovery.offer(peer, f),
            other => deliver(HostEvent::Net(other)),
        };
        let net_cfg = NetConfig {
            listen: cfg.network.listen,
            peers: cfg.network.peers.clone(),
            identity,
            key: key.clone(),
            blacklist: cfg.network.blacklist.iter().map(|k| k.0).collect(),
            whitelist: cfg.network.whitelist.iter().map(|k| k.0).collect(),
            max_frame: cfg.network.max_frame_bytes,
            idle_timeout: std::time::Duration::from_secs(cfg.network.idle_timeout_secs),
        };
        let net = crate::net::start(net_cfg, on_net).await?;
        let exec = ExecConfig {
            suite,
            chain_id: genesis.chain_id,
            group_id: u64::from(genesis.group_id),
            tx_gas_limit: genesis.config.tx_gas_limit,
            ..ExecConfig::default()
        };
        let mut registry = prometheus_client::registry::Registry::with_prefix("jinlian");
        let publish = Publish::with_metrics(crate::metrics::NodeMetrics::register(&mut registry));
        let rpc_metrics = jinlian_rpc::RpcMetrics::register(&mut registry);
        let observe = jinlian_rpc::Observe { registry: Arc::new(registry), metrics: rpc_metrics };
        let group = jinlian_rpc::Group {
            id: genesis.group_id,
            ledger: ledger.clone(),
            exec,
            block_gas_limit: genesis.block_gas_limit,
            backend: Arc::new(NodeBackend { host: tx.clone(), status: publish.status.clone() }),
            events: publish.events.clone(),
        };
        let (rpc, rpc_addr) =
            jinlian_rpc::start(cfg.rpc.listen, cfg.rpc.limits.clone(), vec![group], observe)
                .await?;
        info!(
            node = %cfg.node.name,
            p2p = %net.local_addr,
            rpc = %rpc_addr,
            chain_id = genesis.chain_id,
            suite = %suite,
            "listening"
        );
        let host = Host::new(genesis, ledger, key, net, inbound, publish)?;
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        let host_thread =
            std::thread::Builder::new().name("jinlian-host".into()).spawn(move || {
                let r = host.run(rx);
                let _ = done_tx.send(());
                r
            })?;
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => info!("SIGINT: stopping"),
            _ = term.recv() => info!("SIGTERM: stopping"),
            _ = done_rx => error!("the host stopped"),
        }
        let _ = tx.send(HostEvent::Shutdown);
        let joined = tokio::task::spawn_blocking(move || host_thread.join()).await;
        let _ = rpc.stop();
        match joined {
            Ok(Ok(r)) => r,
            _ => bail!("the host thread panicked"),
        }
    })
}
