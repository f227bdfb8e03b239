//! `jinlian node --config FILE`: loads everything, checks it belongs together, starts the
//! network, the RPC and the host thread, and stops cleanly on SIGINT or SIGTERM (or when the
//! host stops on a storage failure).

use crate::config::NodeConfig;
use crate::host::{Host, HostEvent, InboundBudget, NodeLedger, recover_txs};
use crate::net::{NetConfig, NetEvent};
use crate::pki::TlsIdentity;
use crate::rpc::{RpcContext, start as start_rpc};
use crate::wire::Module;
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
        let recovering = inbound.clone();
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
        let on_net = move |ev: NetEvent| match ev {
            // Transactions are decoded and their signatures checked off the network
            // threads, in parallel; the host only applies the pool's rules.
            // The frame's bytes count against the budget while they wait for a thread.
            NetEvent::Frame(peer, f) if f.module == Module::Txs => {
                if !recovering.try_take(f.payload.len()) {
                    debug!("host input over budget; a transactions frame was dropped");
                    return;
                }
                let (deliver, recovering) = (deliver.clone(), recovering.clone());
                tokio::task::spawn_blocking(move || {
                    let r = recover_txs(suite, &f.payload);
                    recovering.give_back(f.payload.len());
                    match r {
                        Ok(txs) => deliver(HostEvent::PeerTxs(peer, txs)),
                        Err(e) => debug!("bad transactions frame: {e:#}"),
                    }
                });
            }
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
        let rpc_ctx = RpcContext {
            ledger: ledger.clone(),
            host: tx.clone(),
            exec,
            block_gas_limit: genesis.block_gas_limit,
        };
        let (rpc, rpc_addr) = start_rpc(cfg.rpc.listen, rpc_ctx).await?;
        info!(
            node = %cfg.node.name,
            p2p = %net.local_addr,
            rpc = %rpc_addr,
            chain_id = genesis.chain_id,
            suite = %suite,
            "listening"
        );
        let host = Host::new(genesis, ledger, key, net, inbound)?;
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
