//! The node's Prometheus metrics (served by the RPC at `/metrics`, prefix `jinlian_`).

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Handles to the node's metrics; clones update the same series.
#[derive(Debug, Clone)]
pub struct NodeMetrics {
    /// Height of the last committed block.
    pub height: Gauge,
    /// Transactions in committed blocks.
    pub txs: Counter,
    /// Transactions in the pool.
    pub pool: Gauge,
    /// Current consensus view.
    pub view: Gauge,
    /// View changes this node moved to.
    pub view_changes: Counter,
    /// Connected peers of the group.
    pub peers: Gauge,
    /// Whether this node votes (1) or only follows (0).
    pub sealer: Gauge,
    /// Blocks between the highest height peers report and this node's head.
    pub sync_lag: Gauge,
    /// Time to execute a block.
    pub execution_seconds: Histogram,
    /// Time from a transaction's admission into this node's pool to its block's commit.
    pub commit_latency_seconds: Histogram,
}

impl NodeMetrics {
    /// Registers the node's metrics in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let m = Self {
            height: Gauge::default(),
            txs: Counter::default(),
            pool: Gauge::default(),
            view: Gauge::default(),
            view_changes: Counter::default(),
            peers: Gauge::default(),
            sealer: Gauge::default(),
            sync_lag: Gauge::default(),
            // 100 µs … ~3.3 s.
            execution_seconds: Histogram::new(exponential_buckets(0.000_1, 2.0, 16)),
            // 1 ms … ~33 s.
            commit_latency_seconds: Histogram::new(exponential_buckets(0.001, 2.0, 16)),
        };
        registry.register("block_height", "Height of the last committed block", m.height.clone());
        registry.register(
            "transactions_committed",
            "Transactions in blocks committed by this node since it started (the ledger's total at start included)",
            m.txs.clone(),
        );
        registry.register(
            "txpool_transactions",
            "Transactions waiting in the pool",
            m.pool.clone(),
        );
        registry.register(
            "consensus_view",
            "Current consensus view (0 on observers)",
            m.view.clone(),
        );
        registry.register(
            "consensus_view_changes",
            "View changes this node has moved to",
            m.view_changes.clone(),
        );
        registry.register("peers", "Connected peers of the group", m.peers.clone());
        registry.register(
            "consensus_sealer",
            "1 if this node votes at the next height, 0 if it only follows",
            m.sealer.clone(),
        );
        registry.register(
            "sync_lag_blocks",
            "Blocks between the highest height a peer reports and this node's head",
            m.sync_lag.clone(),
        );
        registry.register(
            "block_execution_seconds",
            "Time to execute the transactions of one block",
            m.execution_seconds.clone(),
        );
        registry.register(
            "commit_latency_seconds",
            "Time from a transaction's admission into this node's pool to the commit of its block",
            m.commit_latency_seconds.clone(),
        );
        m
    }

    /// Metrics registered nowhere (tests, tools).
    pub fn unregistered() -> Self {
        Self::register(&mut Registry::default())
    }
}
