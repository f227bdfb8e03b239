//! The node's Prometheus metrics (served by the RPC at `/metrics`, prefix `jinlian_`). Each
//! metric is one family labelled by group, so several groups give one `# HELP`/`# TYPE`
//! block per metric, as Prometheus' parsers require.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The `group` label.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct GroupLabel {
    /// Group id.
    pub group: u32,
}

/// Builds histograms with fixed exponential buckets.
#[derive(Debug, Clone, Copy)]
pub struct Buckets {
    start: f64,
    count: u16,
}

impl MetricConstructor<Histogram> for Buckets {
    fn new_metric(&self) -> Histogram {
        Histogram::new(exponential_buckets(self.start, 2.0, self.count))
    }
}

/// Every node metric, registered once per node.
#[derive(Debug, Clone)]
pub struct NodeFamilies {
    height: Family<GroupLabel, Gauge>,
    txs: Family<GroupLabel, Counter>,
    pool: Family<GroupLabel, Gauge>,
    dropped: Family<GroupLabel, Counter>,
    view: Family<GroupLabel, Gauge>,
    view_changes: Family<GroupLabel, Counter>,
    peers: Family<GroupLabel, Gauge>,
    sealer: Family<GroupLabel, Gauge>,
    sync_lag: Family<GroupLabel, Gauge>,
    execution_seconds: Family<GroupLabel, Histogram, Buckets>,
    commit_latency_seconds: Family<GroupLabel, Histogram, Buckets>,
}

impl NodeFamilies {
    /// Registers the node's metrics in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let f = Self {
            height: Family::default(),
            txs: Family::default(),
            pool: Family::default(),
            dropped: Family::default(),
            view: Family::default(),
            view_changes: Family::default(),
            peers: Family::default(),
            sealer: Family::default(),
            sync_lag: Family::default(),
            // 100 µs … ~3.3 s.
            execution_seconds: Family::new_with_constructor(Buckets { start: 0.000_1, count: 16 }),
            // 1 ms … ~33 s.
            commit_latency_seconds: Family::new_with_constructor(Buckets {
                start: 0.001,
                count: 16,
            }),
        };
        registry.register("block_height", "Height of the last committed block", f.height.clone());
        registry.register(
            "transactions_committed",
            "Transactions in committed blocks (counted from the ledger's total when the group first started in this process)",
            f.txs.clone(),
        );
        registry.register(
            "txpool_transactions",
            "Transactions waiting in the pool",
            f.pool.clone(),
        );
        registry.register(
            "txpool_dropped",
            "Pooled transactions dropped without being committed (expired block limit, nonce \
             used by another transaction, or invalid when a block was built)",
            f.dropped.clone(),
        );
        registry.register(
            "consensus_view",
            "Current consensus view (0 on observers)",
            f.view.clone(),
        );
        registry.register(
            "consensus_view_changes",
            "View changes this node has moved to",
            f.view_changes.clone(),
        );
        registry.register("peers", "Connected peers of the group", f.peers.clone());
        registry.register(
            "consensus_sealer",
            "1 if this node votes at the next height, 0 if it only follows",
            f.sealer.clone(),
        );
        registry.register(
            "sync_lag_blocks",
            "Blocks between the highest height a peer reports and this node's head",
            f.sync_lag.clone(),
        );
        registry.register(
            "block_execution_seconds",
            "Time to execute the transactions of one block",
            f.execution_seconds.clone(),
        );
        registry.register(
            "commit_latency_seconds",
            "Time from a transaction's admission into this node's pool to the commit of its block",
            f.commit_latency_seconds.clone(),
        );
        registry.register_collector(Box::new(ProcessCollector));
        f
    }

    /// The series of group `group`.
    pub fn group(&self, group: u32) -> NodeMetrics {
        let l = GroupLabel { group };
        NodeMetrics {
            height: self.height.get_or_create(&l).clone(),
            txs: self.txs.get_or_create(&l).clone(),
            pool: self.pool.get_or_create(&l).clone(),
            dropped: self.dropped.get_or_create(&l).clone(),
            view: self.view.get_or_create(&l).clone(),
            view_changes: self.view_changes.get_or_create(&l).clone(),
            peers: self.peers.get_or_create(&l).clone(),
            sealer: self.sealer.get_or_create(&l).clone(),
            sync_lag: self.sync_lag.get_or_create(&l).clone(),
            execution_seconds: self.execution_seconds.get_or_create(&l).clone(),
            commit_latency_seconds: self.commit_latency_seconds.get_or_create(&l).clone(),
        }
    }
}

/// Handles to one group's metrics; clones update the same series.
#[derive(Debug, Clone)]
pub struct NodeMetrics {
    /// Height of the last committed block.
    pub height: Gauge,
    /// Transactions in committed blocks.
    pub txs: Counter,
    /// Transactions in the pool.
    pub pool: Gauge,
    /// Pooled transactions dropped without being committed.
    pub dropped: Counter,
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
    /// Metrics registered nowhere (tests, tools).
    pub fn unregistered() -> Self {
        NodeFamilies::register(&mut Registry::default()).group(0)
    }
}

/// CPU time and resident memory of a process, read from `/proc` (Linux; `None` elsewhere or
/// when the process is gone): `(CPU seconds, user and system, so far; resident bytes)`.
/// `pid` `None` is this process. The kernel reports CPU time in ticks of 1/100 s.
pub fn process_usage(pid: Option<u32>) -> Option<(f64, u64)> {
    let dir = pid.map_or_else(|| "/proc/self".to_string(), |p| format!("/proc/{p}"));
    let stat = std::fs::read_to_string(format!("{dir}/stat")).ok()?;
    // Fields after the command name (which may hold spaces and parentheses) start after ") ".
    let rest = stat.rsplit_once(") ")?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    let status = std::fs::read_to_string(format!("{dir}/status")).ok()?;
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())?;
    Some((ticks / 100.0, kib * 1024))
}

/// The node process's CPU time and resident memory, read at each scrape
/// (`jinlian_process_cpu_seconds_total`, `jinlian_process_resident_memory_bytes`), so
/// `jinlian bench` and dashboards see every node's cost through its metrics port.
#[derive(Debug)]
struct ProcessCollector;

impl prometheus_client::collector::Collector for ProcessCollector {
    fn encode(
        &self,
        mut encoder: prometheus_client::encoding::DescriptorEncoder,
    ) -> Result<(), std::fmt::Error> {
        use prometheus_client::encoding::EncodeMetric;
        use prometheus_client::metrics::counter::ConstCounter;
        use prometheus_client::metrics::gauge::ConstGauge;
        let Some((cpu, rss)) = process_usage(None) else { return Ok(()) };
        let counter = ConstCounter::new(cpu);
        counter.encode(encoder.encode_descriptor(
            "process_cpu_seconds",
            "CPU time (user and system) this node process has used",
            None,
            counter.metric_type(),
        )?)?;
        let gauge = ConstGauge::new(rss as i64);
        gauge.encode(encoder.encode_descriptor(
            "process_resident_memory_bytes",
            "Resident memory of this node process",
            None,
            gauge.metric_type(),
        )?)?;
        Ok(())
    }
}
