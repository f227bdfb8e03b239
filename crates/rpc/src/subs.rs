//! `eth_subscribe` / `eth_unsubscribe` over WebSocket: `newHeads`, `logs` (with `address`
//! and `topics`) and `newPendingTransactions` (hashes, or whole transactions with `true`).
//! A subscriber too slow to keep up with the chain is dropped (it never slows commits).

use crate::eth::{internal, view};
use crate::filters::LogFilter;
use crate::format::{h256, header_json, tx_json};
use crate::params::{Args, invalid};
use crate::{ChainEvent, Group, Rpc};
use jinlian_primitives::Height;
use jsonrpsee::core::RegisterMethodError;
use jsonrpsee::types::ErrorObjectOwned;
use jsonrpsee::{PendingSubscriptionSink, RpcModule, SubscriptionSink};
use serde_json::Value;
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;

enum Kind {
    Heads,
    Logs(LogFilter),
    Pending { full: bool },
}

fn kind_of(a: &Args) -> Result<Kind, ErrorObjectOwned> {
    let name = a.get(0, "subscription kind")?;
    match name.as_str() {
        Some("newHeads") => Ok(Kind::Heads),
        Some("logs") => {
            let f = match a.opt(1) {
                Some(v) => {
                    let o = v
                        .as_object()
                        .ok_or_else(|| invalid("the logs filter must be an object"))?;
                    if o.contains_key("fromBlock")
                        || o.contains_key("toBlock")
                        || o.contains_key("blockHash")
                    {
                        return Err(invalid("a logs subscription takes only address and topics"));
                    }
                    LogFilter::parse(v)?
                }
                None => LogFilter::parse(&Value::Object(Default::default()))?,
            };
            Ok(Kind::Logs(f))
        }
        Some("newPendingTransactions") => {
            Ok(Kind::Pending { full: a.opt(1).and_then(Value::as_bool).unwrap_or(false) })
        }
        Some("syncing") => Err(invalid("syncing subscriptions are not offered; poll eth_syncing")),
        _ => Err(invalid(format!(
            "unknown subscription {name}; use newHeads, logs or newPendingTransactions"
        ))),
    }
}

/// What one event becomes for one subscriber (read on a blocking thread).
fn notifications(g: &Group, kind: &Kind, ev: ChainEvent) -> Result<Vec<Value>, ErrorObjectOwned> {
    match (kind, ev) {
        (Kind::Heads, ChainEvent::Block(n)) => {
            let v = view(g)?;
            let Some(block) = v.block(Height(n)).map_err(internal)? else { return Ok(Vec::new()) };
            let hash = block.hash(g.exec.suite);
            Ok(vec![header_json(&block.header, &hash, block.encode_to_vec().len() as u64)])
        }
        (Kind::Logs(f), ChainEvent::Block(n)) => {
            let v = view(g)?;
            f.logs_in(g, &v, n, n, usize::MAX)
        }
        (Kind::Pending { full: false }, ChainEvent::Pending(h)) => Ok(vec![h256(&h).into()]),
        (Kind::Pending { full: true }, ChainEvent::Pending(h)) => {
            // Already committed (the pool was asked first, see `serve`).
            let v = view(g)?;
            match v.transaction(&h).map_err(internal)? {
                Some((t, _)) => Ok(vec![tx_json(&t, None, g.exec.suite)]),
                None => Ok(Vec::new()),
            }
        }
        _ => Ok(Vec::new()),
    }
}

async fn serve(rpc: Arc<Rpc>, g: Arc<Group>, kind: Kind, sink: SubscriptionSink) {
    let mut rx = g.events.subscribe();
    let kind = Arc::new(kind);
    // A stopped group sends nothing more: its subscriptions end (checked every few seconds).
    let mut check = tokio::time::interval(std::time::Duration::from_secs(3));
    loop {
        let ev = tokio::select! {
            _ = sink.closed() => return,
            _ = check.tick() => {
                if !rpc.group_by_id(g.id).is_ok_and(|now| Arc::ptr_eq(&now, &g)) {
                    return;
                }
                continue;
            }
            ev = rx.recv() => ev,
        };
        let ev = match ev {
            Ok(ev) => ev,
            // Too slow: drop the subscriber rather than hold events for it.
            Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => return,
        };
        if let (Kind::Pending { full: true }, ChainEvent::Pending(h)) = (&*kind, ev) {
            let q = crate::PoolQuery { tx: Some(h), ..Default::default() };
            if let Some(t) = g.backend.pool(q).await.tx {
                let item = tx_json(&t, None, g.exec.suite);
                let Ok(raw) = serde_json::value::to_raw_value(&item) else { return };
                if sink.send(raw).await.is_err() {
                    return;
                }
                continue;
            }
        }
        let (g2, k2) = (g.clone(), kind.clone());
        let items = match tokio::task::spawn_blocking(move || notifications(&g2, &k2, ev)).await {
            Ok(Ok(items)) => items,
            _ => return,
        };
        for item in items {
            let Ok(raw) = serde_json::value::to_raw_value(&item) else { return };
            if sink.send(raw).await.is_err() {
                return;
            }
        }
    }
}

pub(crate) fn register(m: &mut RpcModule<Rpc>) -> Result<(), RegisterMethodError> {
    m.register_subscription(
        "eth_subscribe",
        "eth_subscription",
        "eth_unsubscribe",
        |p, pending: PendingSubscriptionSink, rpc, ext| async move {
            let setup = rpc.group(&ext).and_then(|g| {
                let a = Args::new("eth_subscribe", &p)?.at_most(2)?;
                Ok((g, kind_of(&a)?))
            });
            let (g, kind) = match setup {
                Ok(x) => x,
                Err(e) => {
                    pending.reject(e).await;
                    return;
                }
            };
            let Ok(sink) = pending.accept().await else { return };
            serve(rpc, g, kind, sink).await;
        },
    )?;
    Ok(())
}
