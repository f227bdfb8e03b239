//! Jinlian's JSON-RPC server (jsonrpsee; HTTP and WebSocket on one port).
//!
//! - The Ethereum namespace as wallets and libraries use it (ethers.js, web3.py, cast,
//!   MetaMask): blocks, transactions, receipts, state at the head, `eth_call` and
//!   `eth_estimateGas`, logs with a bounded range, poll filters and `eth_subscribe`
//!   (`newHeads`, `logs`, `newPendingTransactions`; ids are `0x…` strings), fee methods that
//!   say fees are zero; `net_`, `web3_`, `txpool_status`.
//! - Groups: path `/` serves the node's first group, `/group/<id>` another.
//! - Limits (all in [`RpcConfig`]): request and response size, batch length, connections,
//!   subscriptions per connection, log range and results, filters. Errors carry the codes
//!   clients expect (-32602 for bad parameters, 3 with the revert data for reverts, -32005
//!   when the node is busy).
//!
//! The ledger is read through snapshots; the node answers what only it knows through
//! [`Backend`].

pub mod backend;
mod eth;
mod explorer;
mod filters;
mod fisco;
pub mod format;
mod metrics;
pub mod params;
mod subs;
mod web;

pub use backend::{
    Admin, Backend, BoxFuture, ChainEvent, GroupError, GroupState, NodeStatus, PeerStatus,
    PoolAnswer, PoolQuery, SubmitError,
};

use anyhow::{Context, Result};
use jinlian_executor::ExecConfig;
use jinlian_storage::{Ledger, RedbStore};
use jsonrpsee::core::middleware::RpcServiceBuilder;
use jsonrpsee::server::{BatchRequestConfig, HttpRequest, ServerBuilder, ServerHandle};
use jsonrpsee::types::ErrorObjectOwned;
use jsonrpsee::{Extensions, RpcModule};
pub use metrics::RpcMetrics;
use metrics::Transport;
use params::err;
use prometheus_client::registry::Registry;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

/// The ledger type the RPC reads.
pub type GroupLedger = Ledger<RedbStore>;

/// Limits and switches of the RPC server (the node's `[rpc]` section).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RpcConfig {
    /// Largest request body, bytes.
    pub max_request_bytes: u32,
    /// Largest response body, bytes.
    pub max_response_bytes: u32,
    /// Most open connections (HTTP and WebSocket).
    pub max_connections: u32,
    /// Most calls in one batch.
    pub max_batch: u32,
    /// Most subscriptions on one WebSocket connection.
    pub max_subscriptions_per_connection: u32,
    /// Most blocks one `eth_getLogs` (or a log filter poll) may span.
    pub max_log_range: u64,
    /// Most logs one `eth_getLogs` may return.
    pub max_logs: usize,
    /// Most installed poll filters (`eth_new*Filter`), all clients together.
    pub max_filters: usize,
    /// A filter not polled for this long is removed, seconds.
    pub filter_timeout_secs: u64,
    /// Origins allowed to call from a browser (`["*"]`: any; empty: none).
    pub cors_origins: Vec<String>,
}

impl Default for RpcConfig {
    fn default() -> Self {
        Self {
            max_request_bytes: 4 * 1024 * 1024,
            max_response_bytes: 32 * 1024 * 1024,
            max_connections: 512,
            max_batch: 100,
            max_subscriptions_per_connection: 256,
            max_log_range: 10_000,
            max_logs: 10_000,
            max_filters: 1_000,
            filter_timeout_secs: 300,
            cors_origins: vec!["*".into()],
        }
    }
}

impl RpcConfig {
    /// Checks the values are usable.
    pub fn check(&self) -> Result<()> {
        anyhow::ensure!(self.max_request_bytes >= 1024, "rpc.max_request_bytes must be ≥ 1024");
        anyhow::ensure!(self.max_response_bytes >= 1024, "rpc.max_response_bytes must be ≥ 1024");
        anyhow::ensure!(self.max_connections >= 1, "rpc.max_connections must be ≥ 1");
        anyhow::ensure!(self.max_batch >= 1, "rpc.max_batch must be ≥ 1");
        anyhow::ensure!(self.max_log_range >= 1, "rpc.max_log_range must be ≥ 1");
        anyhow::ensure!(self.max_logs >= 1, "rpc.max_logs must be ≥ 1");
        anyhow::ensure!(self.filter_timeout_secs >= 1, "rpc.filter_timeout_secs must be ≥ 1");
        for o in &self.cors_origins {
            anyhow::ensure!(
                o == "*" || o.parse::<http::HeaderValue>().is_ok(),
                "rpc.cors_origins: {o:?} is not a valid origin"
            );
        }
        Ok(())
    }
}

/// One group as the RPC serves it.
pub struct Group {
    /// Group id.
    pub id: u32,
    /// Its ledger.
    pub ledger: Arc<GroupLedger>,
    /// Execution settings (suite, chain id, …) for calls.
    pub exec: ExecConfig,
    /// Its block gas limit.
    pub block_gas_limit: u64,
    /// The node behind it.
    pub backend: Arc<dyn Backend>,
    /// Committed blocks and new pool transactions, as they happen.
    pub events: tokio::sync::broadcast::Sender<ChainEvent>,
}

/// Which group the request's path names (set by [`route_path`]).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    /// `/`.
    Default,
    /// `/group/<id>`.
    Group(u32),
    /// Anything else.
    Unknown(String),
}

/// Reads the group from the request path (`/` or `/group/<id>`).
fn route_path(mut req: HttpRequest) -> HttpRequest {
    let path = req.uri().path().trim_end_matches('/').to_string();
    let route = if path.is_empty() {
        Route::Default
    } else if let Some(id) = path.strip_prefix("/group/").and_then(|s| s.parse::<u32>().ok()) {
        Route::Group(id)
    } else {
        Route::Unknown(path)
    };
    let websocket = req
        .headers()
        .get(http::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    // Group management refuses requests a web page could have made: browsers send `Origin`
    // on cross-origin requests and WebSocket upgrades, and a DNS-rebound name reaches a
    // loopback server with a `Host` that is not a loopback address or name.
    let origin = req.headers().contains_key(http::header::ORIGIN);
    let host_ok = req
        .headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_none_or(host_is_local);
    req.extensions_mut().insert(AdminCaller { allowed: !origin && host_ok });
    req.extensions_mut().insert(route);
    req.extensions_mut().insert(if websocket { Transport::WebSocket } else { Transport::Http });

    req
}

/// Whether a request may manage groups (see [`route_path`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct AdminCaller {
    pub(crate) allowed: bool,
}

/// A `Host` header naming this machine or an IP address (not a DNS name someone else owns).
fn host_is_local(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::IpAddr>().is_ok()
}

/// Shared by every method.
pub struct Rpc {
    /// The groups served now (groups start and stop while the node runs).
    groups: std::sync::RwLock<BTreeMap<u32, Arc<Group>>>,
    /// The group `/` addresses.
    first: u32,
    cfg: RpcConfig,
    filters: filters::Filters,
    /// Group lifecycle, if this server may change it.
    admin: Option<Arc<dyn Admin>>,
}

/// The FISCO error for an unknown group.
pub const GROUP_NOT_FOUND: i32 = -40001;

impl Rpc {
    /// The group the request's path names.
    fn group(&self, ext: &Extensions) -> Result<Arc<Group>, ErrorObjectOwned> {
        match ext.get::<Route>() {
            None | Some(Route::Default) => self.group_by_id(self.first),
            Some(Route::Group(id)) => self.group_by_id(*id),
            Some(Route::Unknown(p)) => {
                Err(err(-32601, format!("no RPC at path {p:?}; use / or /group/<id>")))
            }
        }
    }

    /// A group by id.
    fn group_by_id(&self, id: u32) -> Result<Arc<Group>, ErrorObjectOwned> {
        self.groups
            .read()
            .ok()
            .and_then(|g| g.get(&id).cloned())
            .ok_or_else(|| err(GROUP_NOT_FOUND, format!("group {id} is not running on this node")))
    }

    /// The ids of the groups served now.
    fn group_ids(&self) -> Vec<u32> {
        self.groups.read().map(|g| g.keys().copied().collect()).unwrap_or_default()
    }
}

/// Adds and removes the groups a running server serves.
#[derive(Clone)]
pub struct Groups(Arc<Rpc>);

impl Groups {
    /// Serves `g` from now on (replacing a group with the same id).
    pub fn add(&self, g: Group) {
        let g = Arc::new(g);
        filters::watch_pending(self.0.clone(), g.clone());
        if let Ok(mut groups) = self.0.groups.write() {
            groups.insert(g.id, g);
        }
    }

    /// Stops serving group `id`.
    pub fn remove(&self, id: u32) {
        if let Ok(mut groups) = self.0.groups.write() {
            groups.remove(&id);
        }
    }

    /// The ids of the groups served.
    pub fn ids(&self) -> Vec<u32> {
        self.0.group_ids()
    }
}

/// What [`start`] returns: the server, its address, and the handle to its groups.
pub struct Served {
    /// Stops the server.
    pub handle: ServerHandle,
    /// The address it listens on.
    pub addr: SocketAddr,
    /// Its groups.
    pub groups: Groups,
}

/// Subscription ids as geth sends them: random `0x`-prefixed hex quantities.
#[derive(Debug, Clone, Copy)]
struct HexIds;

impl jsonrpsee::core::traits::IdProvider for HexIds {
    fn next_id(&self) -> jsonrpsee::types::SubscriptionId<'static> {
        let n: u128 = rand::random::<u128>() | 1;
        jsonrpsee::types::SubscriptionId::Str(format!("{n:#x}").into())
    }
}

/// What the RPC port serves besides JSON-RPC: `/metrics` from `registry` (which holds
/// `metrics`, see [`RpcMetrics::register`]) and the explorer at `/explorer`.
pub struct Observe {
    /// Every metric of the node, encoded at `/metrics` (groups register theirs as they start).
    pub registry: Arc<std::sync::RwLock<Registry>>,
    /// The RPC's own metrics (registered in `registry`).
    pub metrics: RpcMetrics,
}

impl Observe {
    /// Only the RPC's own metrics.
    pub fn rpc_only() -> Self {
        let mut registry = Registry::with_prefix("jinlian");
        let metrics = RpcMetrics::register(&mut registry);
        Self { registry: Arc::new(std::sync::RwLock::new(registry)), metrics }
    }
}

/// Starts serving `groups` on `addr` (`first` is the group `/` addresses; groups may be added
/// and removed later through [`Served::groups`]): JSON-RPC over HTTP and WebSocket, `/metrics`
/// and `/explorer`.
pub async fn start(
    addr: SocketAddr,
    cfg: RpcConfig,
    first: u32,
    groups: Vec<Group>,
    observe: Observe,
    admin: Option<Arc<dyn Admin>>,
) -> Result<Served> {
    cfg.check()?;
    let server_cfg = jsonrpsee::server::ServerConfig::builder()
        .max_request_body_size(cfg.max_request_bytes)
        .max_response_body_size(cfg.max_response_bytes)
        .max_connections(cfg.max_connections)
        .max_subscriptions_per_connection(cfg.max_subscriptions_per_connection)
        .set_batch_request_config(BatchRequestConfig::Limit(cfg.max_batch))
        .set_id_provider(HexIds)
        .build();
    let max_response_bytes = cfg.max_response_bytes as usize;
    let rpc = Arc::new(Rpc {
        groups: std::sync::RwLock::new(BTreeMap::new()),
        first,
        filters: filters::Filters::new(cfg.max_filters, cfg.filter_timeout_secs),
        cfg: cfg.clone(),
        admin,
    });
    let web = Arc::new(web::Web {
        registry: observe.registry,
        rpc: rpc.clone(),
        permits: Arc::new(tokio::sync::Semaphore::new(web::PAGE_PERMITS)),
    });
    let cors = cors_layer(&cfg.cors_origins);
    let http = tower::ServiceBuilder::new()
        .option_layer(cors)
        .layer(tower::util::MapRequestLayer::new(route_path))
        .layer(web::WebLayer(web));
    let metrics = observe.metrics.clone();
    let rpc_middleware = RpcServiceBuilder::new().layer_fn(move |inner| metrics::Observed {
        inner,
        metrics: metrics.clone(),
        max_response_bytes,
    });
    let server = ServerBuilder::with_config(server_cfg)
        .set_http_middleware(http)
        .set_rpc_middleware(rpc_middleware)
        .build(addr)
        .await
        .with_context(|| format!("cannot serve JSON-RPC on {addr}"))?;
    let local = server.local_addr()?;
    let mut m = RpcModule::from_arc(rpc.clone());
    eth::register(&mut m)?;
    subs::register(&mut m)?;
    filters::register(&mut m)?;
    fisco::register(&mut m)?;
    observe.metrics.set_methods(m.method_names());
    let handle = server.start(m);
    let served = Groups(rpc);
    for g in groups {
        served.add(g);
    }
    Ok(Served { handle, addr: local, groups: served })
}

fn cors_layer(origins: &[String]) -> Option<tower_http::cors::CorsLayer> {
    use tower_http::cors::{AllowOrigin, Any, CorsLayer};
    if origins.is_empty() {
        return None;
    }
    let layer = CorsLayer::new().allow_methods(Any).allow_headers(Any);
    Some(if origins.iter().any(|o| o == "*") {
        layer.allow_origin(Any)
    } else {
        let list: Vec<_> = origins.iter().filter_map(|o| o.parse().ok()).collect();
        layer.allow_origin(AllowOrigin::list(list))
    })
}
