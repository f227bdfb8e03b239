//! Log criteria (`eth_getLogs`, log filters and subscriptions) and poll filters
//! (`eth_newFilter`, `eth_newBlockFilter`, `eth_newPendingTransactionFilter`,
//! `eth_getFilterChanges`, `eth_getFilterLogs`, `eth_uninstallFilter`).
//!
//! Filters are bounded in number; one not polled within the timeout is removed. A pending
//! filter keeps at most [`MAX_PENDING_PER_FILTER`] hashes (the oldest go first).

use crate::eth::{RpcResult, View, head, internal, resolve, view};
use crate::format::{Position, h256, log_json};
use crate::params::{Args, BlockId, address_of, b256_of, block_id_of, err, invalid};
use crate::{ChainEvent, Group, Rpc};
use alloy_primitives::{Address, B256, Bloom, BloomInput, Log};
use jinlian_primitives::{Height, Transaction};
use jsonrpsee::RpcModule;
use jsonrpsee::core::RegisterMethodError;
use jsonrpsee::types::ErrorObjectOwned;
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Hashes a pending-transaction filter keeps between polls.
pub const MAX_PENDING_PER_FILTER: usize = 10_000;
/// Block hashes one poll of a block filter returns at most.
const MAX_BLOCKS_PER_POLL: u64 = 1_000;
/// Most addresses, and most topics per position, in one criterion.
const MAX_CRITERIA: usize = 1_000;

/// Which logs a client wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFilter {
    from: Option<BlockId>,
    to: Option<BlockId>,
    block_hash: Option<B256>,
    addresses: Vec<Address>,
    /// Per position: any of these (an empty list or null: anything).
    topics: Vec<Vec<B256>>,
}

fn one_or_many<T>(
    v: Option<&Value>,
    what: &str,
    parse: impl Fn(&Value) -> Result<T, ErrorObjectOwned>,
) -> Result<Vec<T>, ErrorObjectOwned> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(list)) => {
            if list.len() > MAX_CRITERIA {
                return Err(invalid(format!("at most {MAX_CRITERIA} {what} per filter")));
            }
            list.iter().map(parse).collect()
        }
        Some(one) => Ok(vec![parse(one)?]),
    }
}

impl LogFilter {
    /// Reads a filter object.
    pub fn parse(v: &Value) -> Result<Self, ErrorObjectOwned> {
        let o = v.as_object().ok_or_else(|| invalid("the filter must be an object"))?;
        for k in o.keys() {
            if !["fromBlock", "toBlock", "blockHash", "address", "topics"].contains(&k.as_str()) {
                return Err(invalid(format!("unknown filter field {k:?}")));
            }
        }
        let get = |k: &str| o.get(k).filter(|v| !v.is_null());
        let block_hash = get("blockHash").map(|v| b256_of(v, "blockHash")).transpose()?;
        if block_hash.is_some() && (get("fromBlock").is_some() || get("toBlock").is_some()) {
            return Err(invalid("blockHash cannot be used with fromBlock or toBlock"));
        }
        let from = get("fromBlock").map(|v| block_id_of(Some(v))).transpose()?;
        let to = get("toBlock").map(|v| block_id_of(Some(v))).transpose()?;
        let addresses = one_or_many(get("address"), "addresses", |v| address_of(v, "address"))?;
        let topics = match get("topics") {
            None => Vec::new(),
            Some(Value::Array(positions)) => {
                if positions.len() > 4 {
                    return Err(invalid("at most 4 topic positions"));
                }
                positions
                    .iter()
                    .map(|p| one_or_many(Some(p), "topics", |t| b256_of(t, "topic")))
                    .collect::<Result<_, _>>()?
            }
            Some(_) => return Err(invalid("topics must be a list")),
        };
        Ok(Self { from, to, block_hash, addresses, topics })
    }

    /// Whether a log meets the criteria.
    pub fn matches(&self, log: &Log) -> bool {
        if !self.addresses.is_empty() && !self.addresses.contains(&log.address) {
            return false;
        }
        let topics = log.topics();
        self.topics
            .iter()
            .enumerate()
            .all(|(i, any)| any.is_empty() || topics.get(i).is_some_and(|t| any.contains(t)))
    }

    /// Whether a block with this bloom may hold a matching log.
    fn bloom_may_match(&self, bloom: &Bloom) -> bool {
        let has = |b: &[u8]| bloom.contains_input(BloomInput::Raw(b));
        (self.addresses.is_empty() || self.addresses.iter().any(|a| has(a.as_slice())))
            && self.topics.iter().all(|any| any.is_empty() || any.iter().any(|t| has(t.as_slice())))
    }

    /// The block range the filter names against the view's head.
    fn range(&self, v: &View) -> Result<Option<(u64, u64)>, ErrorObjectOwned> {
        if let Some(h) = self.block_hash {
            return Ok(resolve(v, BlockId::Hash(h))?.map(|n| (n, n)));
        }
        let head = head(v)?;
        let from = match self.from {
            None => head,
            Some(id) => match resolve(v, id)? {
                Some(n) => n,
                None => return Ok(None), // starts after the head: nothing yet
            },
        };
        let to = match self.to {
            None => head,
            Some(id) => resolve(v, id)?.unwrap_or(head),
        };
        if let (Some(BlockId::Number(f)), Some(BlockId::Number(t))) = (self.from, self.to)
            && f > t
        {
            return Err(invalid(format!("fromBlock {f} is after toBlock {t}")));
        }
        Ok((from <= to).then_some((from, to)))
    }

    /// The matching logs of the range the filter names (`eth_getLogs`).
    pub fn logs(
        &self,
        g: &Group,
        v: &View,
        max_range: u64,
        max_logs: usize,
    ) -> Result<Vec<Value>, ErrorObjectOwned> {
        if self.block_hash.is_some() && self.range(v)?.is_none() {
            return Err(err(-32000, "unknown block hash"));
        }
        let Some((from, to)) = self.range(v)? else { return Ok(Vec::new()) };
        if to - from >= max_range {
            return Err(err(
                -32005,
                format!(
                    "the range {from}..={to} spans {} blocks; at most {max_range} per query",
                    to - from + 1
                ),
            ));
        }
        self.logs_in(g, v, from, to, max_logs)
    }

    /// The matching logs of blocks `from..=to`.
    pub fn logs_in(
        &self,
        g: &Group,
        v: &View,
        from: u64,
        to: u64,
        max_logs: usize,
    ) -> Result<Vec<Value>, ErrorObjectOwned> {
        let suite = g.exec.suite;
        let mut out = Vec::new();
        for n in from..=to {
            let Some(header) = v.header(Height(n)).map_err(internal)? else { break };
            if !self.bloom_may_match(&header.logs_bloom) {
                continue;
            }
            let receipts = v.block_receipts(Height(n)).map_err(internal)?;
            let txs = v.block_txs(Height(n)).map_err(internal)?;
            let block_hash = header.hash(suite);
            let mut log_index = 0u64;
            for (i, (r, bt)) in receipts.iter().zip(&txs).enumerate() {
                let mut tx_hash = None;
                for l in &r.logs {
                    if self.matches(l) {
                        if out.len() >= max_logs {
                            return Err(err(
                                -32005,
                                format!(
                                    "more than {max_logs} logs match; narrow the block range \
                                     or the criteria"
                                ),
                            ));
                        }
                        let hash = match tx_hash {
                            Some(h) => h,
                            None => {
                                let h =
                                    Transaction::decode(&bt.raw, suite).map_err(internal)?.hash();
                                tx_hash = Some(h);
                                h
                            }
                        };
                        let at = Position { block_hash, height: n, index: i as u64 };
                        out.push(log_json(l, &hash, at, log_index));
                    }
                    log_index += 1;
                }
            }
        }
        Ok(out)
    }
}

#[derive(Debug)]
enum Kind {
    Blocks { next: u64 },
    Pending { hashes: VecDeque<B256> },
    Logs { filter: LogFilter, next: u64 },
}

#[derive(Debug)]
struct Entry {
    group: u32,
    kind: Kind,
    polled: Instant,
}

/// The installed poll filters of all groups.
#[derive(Debug)]
pub struct Filters {
    map: Mutex<HashMap<String, Entry>>,
    max: usize,
    timeout: Duration,
}

impl Filters {
    /// No filters yet.
    pub fn new(max: usize, timeout_secs: u64) -> Self {
        Self { map: Mutex::new(HashMap::new()), max, timeout: Duration::from_secs(timeout_secs) }
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, HashMap<String, Entry>>, ErrorObjectOwned> {
        self.map.lock().map_err(|_| internal("filter table poisoned"))
    }

    fn install(&self, group: u32, kind: Kind) -> RpcResult {
        let mut map = self.lock()?;
        let timeout = self.timeout;
        map.retain(|_, e| e.polled.elapsed() < timeout);
        if map.len() >= self.max {
            return Err(err(
                -32005,
                format!(
                    "{} filters are installed, the most this node keeps; uninstall some",
                    self.max
                ),
            ));
        }
        let id = format!("{:#x}", rand::random::<u128>() | 1);
        map.insert(id.clone(), Entry { group, kind, polled: Instant::now() });
        Ok(id.into())
    }

    fn push_pending(&self, group: u32, hash: B256) {
        let Ok(mut map) = self.map.lock() else { return };
        for e in map.values_mut().filter(|e| e.group == group) {
            if let Kind::Pending { hashes } = &mut e.kind {
                if hashes.len() >= MAX_PENDING_PER_FILTER {
                    hashes.pop_front();
                }
                hashes.push_back(hash);
            }
        }
    }
}

fn filter_id(a: &Args) -> Result<String, ErrorObjectOwned> {
    a.get(0, "filter id")?
        .as_str()
        .map(|s| s.to_ascii_lowercase())
        .ok_or_else(|| invalid("the filter id must be a string"))
}

fn not_found() -> ErrorObjectOwned {
    err(-32000, "filter not found")
}

fn changes(rpc: &Rpc, g: &Group, a: Args) -> RpcResult {
    let id = filter_id(&a)?;
    let v = view(g)?;
    let head = head(&v)?;
    // Take what is needed under the lock, read the ledger outside it.
    let (logs_from, filter) = {
        let mut map = rpc.filters.lock()?;
        let e = map.get_mut(&id).filter(|e| e.group == g.id).ok_or_else(not_found)?;
        e.polled = Instant::now();
        match &mut e.kind {
            Kind::Pending { hashes } => {
                let out: Vec<Value> = hashes.drain(..).map(|h| h256(&h).into()).collect();
                return Ok(Value::Array(out));
            }
            Kind::Blocks { next } => {
                let to = head.min(next.saturating_add(MAX_BLOCKS_PER_POLL - 1));
                let (from, upto) = (*next, to);
                if from > upto {
                    return Ok(Value::Array(Vec::new()));
                }
                *next = upto + 1;
                drop(map);
                let mut out = Vec::new();
                for n in from..=upto {
                    if let Some(h) = v.header(Height(n)).map_err(internal)? {
                        out.push(h256(&h.hash(g.exec.suite)).into());
                    }
                }
                return Ok(Value::Array(out));
            }
            Kind::Logs { filter, next } => {
                let from = *next;
                let to = head.min(from.saturating_add(rpc.cfg.max_log_range - 1));
                if from > to {
                    return Ok(Value::Array(Vec::new()));
                }
                *next = to + 1;
                ((from, to), filter.clone())
            }
        }
    };
    let (from, to) = logs_from;
    Ok(Value::Array(filter.logs_in(g, &v, from, to, rpc.cfg.max_logs)?))
}

pub(crate) fn register(m: &mut RpcModule<Rpc>) -> Result<(), RegisterMethodError> {
    m.register_blocking_method("eth_newFilter", |p, rpc, ext| {
        let g = rpc.group(&ext)?.clone();
        let a = Args::new("eth_newFilter", &p)?;
        let filter = LogFilter::parse(a.get(0, "filter")?)?;
        let next = head(&view(&g)?)? + 1;
        rpc.filters.install(g.id, Kind::Logs { filter, next })
    })?;
    m.register_blocking_method("eth_newBlockFilter", |_, rpc, ext| {
        let g = rpc.group(&ext)?.clone();
        let next = head(&view(&g)?)? + 1;
        rpc.filters.install(g.id, Kind::Blocks { next })
    })?;
    m.register_method("eth_newPendingTransactionFilter", |_, rpc, ext| {
        let g = rpc.group(ext)?;
        rpc.filters.install(g.id, Kind::Pending { hashes: VecDeque::new() })
    })?;
    m.register_blocking_method("eth_getFilterChanges", |p, rpc, ext| {
        let g = rpc.group(&ext)?.clone();
        changes(&rpc, &g, Args::new("eth_getFilterChanges", &p)?)
    })?;
    m.register_blocking_method("eth_getFilterLogs", |p, rpc, ext| {
        let g = rpc.group(&ext)?.clone();
        let a = Args::new("eth_getFilterLogs", &p)?;
        let id = filter_id(&a)?;
        let filter = {
            let mut map = rpc.filters.lock()?;
            let e = map.get_mut(&id).filter(|e| e.group == g.id).ok_or_else(not_found)?;
            e.polled = Instant::now();
            match &e.kind {
                Kind::Logs { filter, .. } => filter.clone(),
                _ => return Err(invalid("eth_getFilterLogs needs a log filter")),
            }
        };
        let v = view(&g)?;
        Ok(Value::Array(filter.logs(&g, &v, rpc.cfg.max_log_range, rpc.cfg.max_logs)?))
    })?;
    m.register_method("eth_uninstallFilter", |p, rpc, ext| {
        let g = rpc.group(ext)?;
        let a = Args::new("eth_uninstallFilter", &p)?;
        let id = filter_id(&a)?;
        let mut map = rpc.filters.lock()?;
        let mine = map.get(&id).is_some_and(|e| e.group == g.id);
        if mine {
            map.remove(&id);
        }
        Ok::<Value, ErrorObjectOwned>(mine.into())
    })?;
    Ok(())
}

/// Feeds a group's new pool transactions to its pending filters.
pub(crate) fn watch_pending(rpc: Arc<Rpc>, g: Arc<Group>) {
    // Only the receiver and the id: holding the group would keep its event channel (and
    // its ledger) alive after the group stops, and this task with them.
    let mut rx = g.events.subscribe();
    let id = g.id;
    drop(g);
    tokio::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(ChainEvent::Pending(h)) => rpc.filters.push_pending(id, h),
                Ok(ChainEvent::Block(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    });
}
