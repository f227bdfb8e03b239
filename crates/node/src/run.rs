//! `jinlian node --config FILE`: loads everything, checks it belongs together, starts the
//! network, the RPC and the host thread, and stops cleanly on SIGINT or SIGTERM (or when the
//! host stops on a storage failure).

use crate::config::NodeConfig;
use crate::genesis::Genesis;
use crate::host::{Host, HostEvent, InboundBudget, NodeLedger, Publish, recover_txs};
use crate::metrics::{NodeFamilies, NodeMetrics};
use crate::net::{NetConfig, NetEvent, PeerId};
use crate::pki::TlsIdentity;
use crate::rpc::NodeBackend;
use crate::wire::{Frame, Module};
use anyhow::{Context, Result, bail};
use jinlian_crypto::{KeyFile, KeyPair};
use jinlian_executor::ExecConfig;
use jinlian_rpc::{Admin, GroupError, GroupState};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex};
use tracing::{debug, error, info, warn};

fn read(path: &Path, what: &str) -> Result<String> {
    std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the {what} {}", path.display()))
}

/// Bytes of peer input that may wait for the host (at least two largest frames).
const INBOUND_BYTES: usize = 256 * 1024 * 1024;

/// Most groups one node has a genesis for (each running group is a thread, a pool and a
/// ledger).
const MAX_GROUPS: usize = 64;

/// Gossip frames waiting for a recovery thread; more are dropped (gossip tolerates loss, and
/// clients' transactions are gossiped again while pooled). Their bytes count against the
/// inbound budget too, which is what bounds memory: frames are often small (what one pass of
/// the sender's host took from its clients), so the count must not be what drops them.
const RECOVERY_QUEUE: usize = 8_192;

/// Where gossiped transactions go to have their signatures checked.
struct Recovery {
    jobs: std::sync::mpsc::SyncSender<(PeerId, Frame)>,
    /// The node's inbound budget, and the share of it gossip waiting for a check may hold
    /// (so a gossip flood cannot crowd out consensus frames).
    budgets: [Arc<InboundBudget>; 2],
}

/// Gossip frames waiting for a signature check hold at most this share of the inbound
/// budget.
const RECOVERY_SHARE: usize = 4;

/// Bytes of the inbound budgets held by one job, given back however the job ends.
struct Held {
    budgets: [Arc<InboundBudget>; 2],
    n: usize,
}

impl Drop for Held {
    fn drop(&mut self) {
        for b in &self.budgets {
            b.give_back(self.n);
        }
    }
}

impl Recovery {
    /// Queues a frame of transactions, or drops it when the queue or the budget is full.
    fn offer(&self, peer: PeerId, f: Frame) {
        let n = f.payload.len().max(crate::host::MIN_EVENT_COST);
        let [all, gossip] = &self.budgets;
        if !gossip.try_take(n) {
            debug!("gossip waiting for checks over its budget; a transactions frame was dropped");
            return;
        }
        if !all.try_take(n) {
            gossip.give_back(n);
            debug!("host input over budget; a transactions frame was dropped");
            return;
        }
        if self.jobs.try_send((peer, f)).is_err() {
            all.give_back(n);
            gossip.give_back(n);
            debug!("transaction recovery is busy; a transactions frame was dropped");
        }
    }
}

/// One recovery thread per core, fed through a bounded queue. Recovered transactions go to
/// the host of the frame's group.
fn start_recovery(
    suite: jinlian_crypto::CryptoSuite,
    budget: Arc<InboundBudget>,
    deliver: impl Fn(u32, HostEvent) + Clone + Send + 'static,
    pooled_of: impl Fn(u32) -> Option<crate::pool::PooledSet> + Clone + Send + 'static,
) -> Result<Recovery> {
    let (jobs, rx) = std::sync::mpsc::sync_channel::<(PeerId, Frame)>(RECOVERY_QUEUE);
    let rx = Arc::new(std::sync::Mutex::new(rx));
    let share = Arc::new(InboundBudget::new(budget.limit() / RECOVERY_SHARE));
    let budgets = [budget, share];
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    for i in 0..workers {
        let (rx, budgets, deliver) = (rx.clone(), budgets.clone(), deliver.clone());
        let pooled_of = pooled_of.clone();
        std::thread::Builder::new().name(format!("jinlian-recover-{i}")).spawn(move || {
            loop {
                let job = match rx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => return,
                };
                let Ok((peer, f)) = job else { return };
                let _held = Held {
                    budgets: budgets.clone(),
                    n: f.payload.len().max(crate::host::MIN_EVENT_COST),
                };
                let pooled = pooled_of(f.group);
                let r =
                    std::panic::catch_unwind(|| recover_txs(suite, &f.payload, pooled.as_ref()));
                let event = match r {
                    Ok(Ok(txs)) => HostEvent::PeerTxs(peer, txs),
                    Ok(Err(e)) => HostEvent::Misbehaved(peer, format!("{e:#}")),
                    Err(_) => HostEvent::Misbehaved(
                        peer,
                        "a gossip frame crashed transaction recovery".into(),
                    ),
                };
                deliver(f.group, event);
            }
        })?;
    }
    Ok(Recovery { jobs, budgets })
}

/// The hosts' queues by group, for the network to hand frames to.
type Routes = Arc<std::sync::RwLock<HashMap<u32, Route>>>;

/// Where a group's input goes.
#[derive(Clone)]
struct Route {
    events: SyncSender<HostEvent>,
    /// The hashes its pool holds (gossip of those is not checked again).
    pooled: crate::pool::PooledSet,
}

/// A group running on this node.
struct Running {
    events: SyncSender<HostEvent>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// The node: one network, one RPC server and any number of groups, each with its own
/// genesis, ledger, pool, consensus and host thread.
struct Node {
    cfg: NodeConfig,
    /// The group of `[node] genesis`.
    main: Genesis,
    suite: jinlian_crypto::CryptoSuite,
    key: KeyPair,
    net: crate::net::NetHandle,
    inbound: Arc<InboundBudget>,
    routes: Routes,
    groups: Mutex<BTreeMap<u32, Running>>,
    /// The node's metric families (one series per group).
    families: NodeFamilies,
    /// Groups whose metrics exist (a group started again keeps counting where it was).
    metrics: Mutex<HashMap<u32, NodeMetrics>>,
    /// Held for the whole of a group's start or stop, so a start cannot slip into a stop
    /// of the same group (two hosts on one ledger) and shutdown cannot race a start.
    lifecycle: Mutex<bool>,
    /// Ledgers opened so far: a group started again reuses its open ledger (readers of the
    /// stopped group may still hold it, and the file stays locked while anything does).
    ledgers: Mutex<HashMap<u32, Arc<NodeLedger>>>,
    rpc: std::sync::OnceLock<jinlian_rpc::Groups>,
    /// A host that stopped on its own (a storage failure, divergence): the node stops.
    fatal: tokio::sync::mpsc::UnboundedSender<(u32, anyhow::Error)>,
}

fn group_error(code: u32, message: impl Into<String>) -> GroupError {
    GroupError { code, message: message.into() }
}

impl Node {
    fn groups_dir(&self) -> PathBuf {
        self.cfg.node.groups_dir.clone()
    }

    fn genesis_path(&self, id: u32) -> PathBuf {
        self.groups_dir().join(id.to_string()).join("genesis.json")
    }

    /// The data directory of a group: the main group's is the node's own (as before groups).
    fn data_dir(&self, id: u32) -> PathBuf {
        if id == self.main.group_id {
            self.cfg.node.data_dir.clone()
        } else {
            self.cfg.node.data_dir.join(format!("group-{id}"))
        }
    }

    fn stopped_marker(&self, id: u32) -> PathBuf {
        self.data_dir(id).join("STOPPED")
    }

    /// The genesis of group `id`, if this node has one.
    fn genesis(&self, id: u32) -> Result<Option<Genesis>> {
        if id == self.main.group_id {
            return Ok(Some(self.main.clone()));
        }
        let path = self.genesis_path(id);
        if !path.exists() {
            return Ok(None);
        }
        let g = crate::genesis::load(&path)?;
        anyhow::ensure!(
            g.group_id == id,
            "{} is the genesis of group {}, not {id}",
            path.display(),
            g.group_id
        );
        Ok(Some(g))
    }

    /// Every group this node has a genesis for.
    fn known(&self) -> Vec<u32> {
        let mut ids = vec![self.main.group_id];
        if let Ok(dir) = std::fs::read_dir(self.groups_dir()) {
            for e in dir.flatten() {
                let name = e.file_name();
                if let Some(id) = name.to_str().and_then(|n| n.parse::<u32>().ok())
                    && id > 0
                    && name.to_str() == Some(id.to_string().as_str())
                    && !ids.contains(&id)
                    && e.path().join("genesis.json").exists()
                {
                    ids.push(id);
                }
            }
        }
        ids.sort_unstable();
        ids
    }

    /// A group's metrics, and whether they were just created.
    fn metrics_of(&self, id: u32) -> (NodeMetrics, bool) {
        let mut all = self.metrics.lock().unwrap_or_else(|p| p.into_inner());
        match all.get(&id) {
            Some(m) => (m.clone(), false),
            None => {
                let m = self.families.group(id);
                all.insert(id, m.clone());
                (m, true)
            }
        }
    }

    fn start(self: &Arc<Self>, id: u32) -> Result<(), GroupError> {
        let lifecycle = self.lifecycle.lock().unwrap_or_else(|p| p.into_inner());
        if *lifecycle {
            return Err(group_error(6, "the node is shutting down"));
        }
        if self.groups.lock().map(|g| g.contains_key(&id)).unwrap_or(false) {
            return Err(group_error(4, format!("group {id} is already running")));
        }
        let genesis =
            self.genesis(id).map_err(|e| group_error(2, format!("{e:#}")))?.ok_or_else(|| {
                group_error(3, format!("group {id} does not exist here: generate it first"))
            })?;
        if genesis.crypto_suite() != self.suite {
            return Err(group_error(
                2,
                format!(
                    "group {id} uses {}, this node's key {}",
                    genesis.crypto_suite(),
                    self.suite
                ),
            ));
        }
        let dir = self.data_dir(id);
        std::fs::create_dir_all(&dir)
            .map_err(|e| group_error(6, format!("cannot create {}: {e}", dir.display())))?;
        let ledger = {
            let mut open = self.ledgers.lock().unwrap_or_else(|p| p.into_inner());
            match open.get(&id) {
                Some(l) => l.clone(),
                None => {
                    let cache = self.cfg.storage.cache_mib.saturating_mul(1024 * 1024);
                    let l = NodeLedger::open_with_cache(dir.join("ledger.redb"), self.suite, cache)
                        .map_err(|e| {
                            group_error(6, format!("group {id}: cannot open its ledger: {e}"))
                        })?;
                    l.set_state_history(self.cfg.storage.state_history_blocks);
                    let l = Arc::new(l);
                    open.insert(id, l.clone());
                    l
                }
            }
        };
        let (metrics, fresh) = self.metrics_of(id);
        if fresh {
            // The counter starts at the ledger's total, once per process.
            metrics.txs.inc_by(ledger.view().and_then(|v| v.totals()).map_or(0, |t| t.txs));
        }
        let publish = Publish::with_metrics(metrics);
        let exec = ExecConfig {
            suite: self.suite,
            chain_id: genesis.chain_id,
            group_id: u64::from(id),
            tx_gas_limit: genesis.config.tx_gas_limit,
            ..ExecConfig::default()
        };
        let (tx, rx) = std::sync::mpsc::sync_channel::<HostEvent>(65_536);
        let rpc_group = jinlian_rpc::Group {
            id,
            ledger: ledger.clone(),
            exec,
            block_gas_limit: genesis.block_gas_limit,
            backend: Arc::new(NodeBackend { host: tx.clone(), status: publish.status.clone() }),
            events: publish.events.clone(),
        };
        let host = Host::new(
            genesis,
            ledger,
            self.key.clone(),
            self.net.clone(),
            self.inbound.clone(),
            publish,
            &self.cfg,
        )
        .map_err(|e| group_error(6, format!("group {id}: {e:#}")))?;
        let pooled = host.pooled_set();
        let fatal = self.fatal.clone();
        let thread = std::thread::Builder::new()
            .name(format!("jinlian-host-{id}"))
            .spawn(move || {
                // Every log line of this group's host names the group.
                let span = tracing::info_span!("group", id);
                let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    span.in_scope(|| host.run(rx))
                }));
                match ran {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => {
                        let _ = fatal.send((id, e));
                    }
                    Err(_) => {
                        let _ = fatal.send((id, anyhow::anyhow!("the group's host panicked")));
                    }
                }
            })
            .map_err(|e| group_error(6, format!("cannot start group {id}: {e}")))?;
        if let Ok(mut routes) = self.routes.write() {
            routes.insert(id, Route { events: tx.clone(), pooled });
        }
        if let Ok(mut groups) = self.groups.lock() {
            groups.insert(id, Running { events: tx, thread: Some(thread) });
        }
        if let Some(rpc) = self.rpc.get() {
            rpc.add(rpc_group);
        }
        let _ = std::fs::remove_file(self.stopped_marker(id));
        info!(group = id, "group started");
        drop(lifecycle);
        Ok(())
    }

    /// Stops a group's host and waits for it; `mark` (the reason) keeps it stopped across
    /// restarts.
    fn stop(&self, id: u32, mark: Option<&str>) -> Result<(), GroupError> {
        let _lifecycle = self.lifecycle.lock().unwrap_or_else(|p| p.into_inner());
        self.stop_locked(id, mark)
    }

    fn stop_locked(&self, id: u32, mark: Option<&str>) -> Result<(), GroupError> {
        let running = {
            let mut groups = self.groups.lock().unwrap_or_else(|p| p.into_inner());
            groups.remove(&id)
        };
        let Some(mut running) = running else {
            return Err(group_error(5, format!("group {id} is not running")));
        };
        if let Ok(mut routes) = self.routes.write() {
            routes.remove(&id);
        }
        if let Some(rpc) = self.rpc.get() {
            rpc.remove(id);
        }
        let _ = running.events.send(HostEvent::Shutdown);
        if let Some(t) = running.thread.take() {
            let _ = t.join();
        }
        if let Some(reason) = mark
            && let Err(e) = std::fs::write(self.stopped_marker(id), format!("{reason}\n"))
        {
            warn!(group = id, "cannot record that the group stays stopped: {e}");
        }
        info!(group = id, "group stopped");
        Ok(())
    }

    /// Stops every group; no group starts after this.
    fn stop_all(&self) {
        let mut lifecycle = self.lifecycle.lock().unwrap_or_else(|p| p.into_inner());
        *lifecycle = true;
        let ids: Vec<u32> =
            self.groups.lock().map(|g| g.keys().copied().collect()).unwrap_or_default();
        for id in ids {
            let _ = self.stop_locked(id, None);
        }
    }
}

/// The node's group lifecycle behind the RPC (`generateGroup`, `startGroup`, …).
struct NodeAdmin(Arc<Node>);

impl Admin for NodeAdmin {
    fn generate_group(&self, id: u32, genesis: &str) -> Result<(), GroupError> {
        let node = &self.0;
        let g = Genesis::from_json(genesis)
            .and_then(|g| g.validate().map(|()| g))
            .map_err(|e| group_error(2, format!("not a valid genesis: {e:#}")))?;
        if g.group_id != id {
            return Err(group_error(
                2,
                format!("the genesis is for group {}, not {id}", g.group_id),
            ));
        }
        if g.crypto_suite() != node.suite {
            return Err(group_error(
                2,
                format!("the genesis uses {}, this node's key {}", g.crypto_suite(), node.suite),
            ));
        }
        for other in node.known().into_iter().filter(|o| *o != id) {
            if let Ok(Some(o)) = node.genesis(other)
                && o.chain_id == g.chain_id
            {
                return Err(group_error(
                    2,
                    format!(
                        "group {other} already uses chain id {}: transactions signed for one \
                         group would be valid in the other",
                        g.chain_id
                    ),
                ));
            }
        }
        if node.known().len() >= MAX_GROUPS && !node.known().contains(&id) {
            return Err(group_error(6, format!("this node already has {MAX_GROUPS} groups")));
        }
        match node.genesis(id) {
            Ok(Some(have)) if have.hash() == g.hash() => return Ok(()),
            Ok(Some(_)) | Err(_) => {
                return Err(group_error(
                    1,
                    format!("group {id} already exists here with another genesis"),
                ));
            }
            Ok(None) => {}
        }
        let path = node.genesis_path(id);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| group_error(6, format!("cannot create {}: {e}", dir.display())))?;
        }
        crate::files::write_public_file(&path, (g.to_json() + "\n").as_bytes())
            .map_err(|e| group_error(6, format!("cannot write {}: {e:#}", path.display())))?;
        info!(group = id, "group generated");
        Ok(())
    }

    fn start_group(&self, id: u32) -> Result<(), GroupError> {
        self.0.start(id)
    }

    fn stop_group(&self, id: u32) -> Result<(), GroupError> {
        if id == self.0.main.group_id {
            return Err(group_error(
                2,
                format!(
                    "group {id} is this node's own group (its [node] genesis, served at /); \
                     stop the node instead"
                ),
            ));
        }
        self.0.stop(id, Some("stopped by stopGroup"))
    }

    fn group_state(&self, id: u32) -> GroupState {
        let running = self.0.groups.lock().map(|g| g.contains_key(&id)).unwrap_or(false);
        if running {
            GroupState::Running
        } else if matches!(self.0.genesis(id), Ok(Some(_))) {
            GroupState::Stopped
        } else {
            GroupState::Inexistent
        }
    }

    fn groups(&self) -> Vec<(u32, GroupState)> {
        self.0.known().into_iter().map(|id| (id, self.group_state(id))).collect()
    }
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
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("jinlian-io")
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let inbound =
            Arc::new(InboundBudget::new(INBOUND_BYTES.max(2 * cfg.network.max_frame_bytes)));
        let routes: Routes = Arc::default();
        let (budget, table) = (inbound.clone(), routes.clone());
        // Hands an event to a group's host within the budget; a full queue drops network
        // input (consensus and gossip tolerate loss) rather than block or grow. Frames of a
        // group this node does not run are dropped.
        let deliver = move |group: u32, event: HostEvent| {
            if group == 0 {
                return; // a keepalive: reading it kept the connection alive
            }
            let n = event.peer_bytes();
            let Some(to) = table.read().ok().and_then(|r| r.get(&group).map(|r| r.events.clone()))
            else {
                debug!(group, "a frame for a group this node does not run was dropped");
                return;
            };
            if !budget.try_take(n) {
                debug!(bytes = budget.used(), "host input over budget; a peer frame was dropped");
                return;
            }
            if to.try_send(event).is_err() {
                budget.give_back(n);
            }
        };
        let pools = routes.clone();
        let pooled_of = move |group: u32| {
            pools.read().ok().and_then(|r| r.get(&group).map(|r| r.pooled.clone()))
        };
        let recovery = start_recovery(suite, inbound.clone(), deliver.clone(), pooled_of)?;
        let every = routes.clone();
        let on_net = move |ev: NetEvent| match ev {
            // Transactions are decoded and their signatures checked on recovery threads, in
            // parallel and off the network's; the host only applies the pool's rules.
            NetEvent::Frame(peer, f) if f.module == Module::Txs => recovery.offer(peer, f),
            NetEvent::Frame(peer, f) => {
                deliver(f.group, HostEvent::Net(NetEvent::Frame(peer, f)));
            }
            // Every group hears who comes and goes.
            other => {
                let ids: Vec<u32> =
                    every.read().map(|r| r.keys().copied().collect()).unwrap_or_default();
                for id in ids {
                    deliver(id, HostEvent::Net(other.clone()));
                }
            }
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
        let mut registry = prometheus_client::registry::Registry::with_prefix("jinlian");
        let rpc_metrics = jinlian_rpc::RpcMetrics::register(&mut registry);
        let families = NodeFamilies::register(&mut registry);
        let registry = Arc::new(std::sync::RwLock::new(registry));
        let (fatal, mut fatal_rx) = tokio::sync::mpsc::unbounded_channel();
        let p2p = net.local_addr;
        let main_id = genesis.group_id;
        let admin_on = cfg.rpc.admin_enabled();
        let node = Arc::new(Node {
            cfg: cfg.clone(),
            main: genesis,
            suite,
            key,
            net,
            inbound,
            routes,
            groups: Mutex::new(BTreeMap::new()),
            families,
            metrics: Mutex::new(HashMap::new()),
            lifecycle: Mutex::new(false),
            ledgers: Mutex::new(HashMap::new()),
            rpc: std::sync::OnceLock::new(),
            fatal,
        });
        let admin: Option<Arc<dyn Admin>> =
            admin_on.then(|| Arc::new(NodeAdmin(node.clone())) as Arc<dyn Admin>);
        let observe = jinlian_rpc::Observe { registry, metrics: rpc_metrics };
        let served = jinlian_rpc::start(
            cfg.rpc.listen,
            cfg.rpc.limits.clone(),
            main_id,
            Vec::new(),
            observe,
            admin,
        )
        .await?;
        let _ = node.rpc.set(served.groups.clone());
        // The groups this node has a genesis for start, except those stopped by stopGroup (or
        // after a failure). Only the node's own group must start: another that cannot is
        // logged and left stopped.
        for id in node.known() {
            if node.stopped_marker(id).exists() {
                info!(
                    group = id,
                    "group stays stopped (see its STOPPED file); startGroup starts it"
                );
                continue;
            }
            let n = node.clone();
            match tokio::task::spawn_blocking(move || n.start(id)).await? {
                Ok(()) => {}
                Err(e) if e.code == 4 => {} // started meanwhile through the RPC
                Err(e) if id == main_id => bail!("group {id}: {}", e.message),
                Err(e) => error!(group = id, "the group cannot start: {}", e.message),
            }
        }
        // A keepalive every 10 s on every connection: a peer this node shares no running
        // group with would otherwise hear nothing and drop the connection as idle.
        let keepalive = node.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(10));
            loop {
                tick.tick().await;
                let peers = keepalive.net.connected();
                keepalive.net.send_many(&peers, &Frame::new(0, Module::Status, Vec::new()));
            }
        });
        info!(
            node = %cfg.node.name,
            p2p = %p2p,
            rpc = %served.addr,
            groups = ?served.groups.ids(),
            suite = %suite,
            "listening"
        );
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        let failed = loop {
            let f = tokio::select! {
                _ = tokio::signal::ctrl_c() => { info!("SIGINT: stopping"); break None }
                _ = term.recv() => { info!("SIGTERM: stopping"); break None }
                f = fatal_rx.recv() => f,
            };
            match f {
                // The node's own group failing stops the node.
                Some((id, e)) if id == main_id => break Some((id, e)),
                // Another group failing (storage, divergence) stops that group only.
                Some((id, e)) => {
                    error!(group = id, "the group stopped: {e:#}");
                    let n = node.clone();
                    let reason = format!("stopped after a failure: {e:#}");
                    let _ = tokio::task::spawn_blocking(move || n.stop(id, Some(&reason))).await;
                }
                None => break None,
            }
        };
        let _ = served.handle.stop();
        let n = node.clone();
        let _ = tokio::task::spawn_blocking(move || n.stop_all()).await;
        match failed {
            Some((id, e)) => {
                error!(group = id, "the group's host stopped: {e:#}");
                Err(e.context(format!("group {id} stopped")))
            }
            None => Ok(()),
        }
    })
}
