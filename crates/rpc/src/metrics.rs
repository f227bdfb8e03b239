//! RPC metrics (`jinlian_rpc_requests_total{method, outcome}`, request durations) and the RPC
//! middleware that records them. The same middleware tells a client that asked for a
//! subscription over plain HTTP to use a WebSocket (jsonrpsee alone answers "Internal error").

use crate::params::err;
use jsonrpsee::MethodResponse;
use jsonrpsee::core::middleware::{Batch, BatchEntry, Notification, RpcServiceT};
use jsonrpsee::core::server::BatchResponseBuilder;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::collections::HashSet;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// Labels of one RPC request.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct RequestLabels {
    /// A method this server offers, or `other` (so clients cannot grow the label set).
    pub method: &'static str,
    /// `ok` or `error`.
    pub outcome: &'static str,
}

/// The RPC server's metrics.
#[derive(Debug, Clone)]
pub struct RpcMetrics {
    requests: Family<RequestLabels, Counter>,
    seconds: Histogram,
    /// The methods served, set when the server starts.
    known: Arc<OnceLock<HashSet<&'static str>>>,
}

impl RpcMetrics {
    /// Registers the RPC metrics in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let m = Self {
            requests: Family::default(),
            // 50 µs … ~26 s.
            seconds: Histogram::new(exponential_buckets(0.000_05, 2.0, 20)),
            known: Arc::new(OnceLock::new()),
        };
        registry.register(
            "rpc_requests",
            "JSON-RPC requests answered, by method and outcome (ok or error)",
            m.requests.clone(),
        );
        registry.register(
            "rpc_request_duration_seconds",
            "Time to answer one JSON-RPC request",
            m.seconds.clone(),
        );
        m
    }

    /// Metrics registered nowhere (for a server started without a registry).
    pub fn unregistered() -> Self {
        Self::register(&mut Registry::default())
    }

    pub(crate) fn set_methods(&self, names: impl IntoIterator<Item = &'static str>) {
        let _ = self.known.set(names.into_iter().collect());
    }

    fn label(&self, method: &str) -> &'static str {
        self.known.get().and_then(|k| k.get(method).copied()).unwrap_or("other")
    }

    /// Requests of `method` with `outcome` so far (for tests).
    pub fn count(&self, method: &'static str, outcome: &'static str) -> u64 {
        self.requests.get_or_create(&RequestLabels { method, outcome }).get()
    }
}

/// How a request arrived (set by the HTTP layer from the `Upgrade` header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    Http,
    WebSocket,
}

/// The RPC middleware: counts and times every call, in batches too, and refuses
/// subscriptions over plain HTTP with an error that says what to do.
#[derive(Debug, Clone)]
pub(crate) struct Observed<S> {
    pub(crate) inner: S,
    pub(crate) metrics: RpcMetrics,
    pub(crate) max_response_bytes: usize,
}

impl<S> RpcServiceT for Observed<S>
where
    S: RpcServiceT<MethodResponse = MethodResponse, BatchResponse = MethodResponse>
        + Send
        + Sync
        + Clone
        + 'static,
{
    type MethodResponse = MethodResponse;
    type NotificationResponse = S::NotificationResponse;
    type BatchResponse = MethodResponse;

    fn call<'a>(
        &self,
        req: jsonrpsee::types::Request<'a>,
    ) -> impl Future<Output = MethodResponse> + Send + 'a {
        let refuse = req.extensions().get::<Transport>() == Some(&Transport::Http)
            && matches!(req.method_name(), "eth_subscribe" | "eth_unsubscribe");
        let method = self.metrics.label(req.method_name());
        let metrics = self.metrics.clone();
        let inner = self.inner.clone();
        async move {
            let started = Instant::now();
            let rp = if refuse {
                MethodResponse::error(
                    req.id,
                    err(
                        -32601,
                        "subscriptions need a WebSocket connection (ws://host:port/…); over \
                         HTTP, poll with eth_newFilter and eth_getFilterChanges",
                    ),
                )
            } else {
                inner.call(req).await
            };
            let outcome = if rp.is_error() { "error" } else { "ok" };
            metrics.requests.get_or_create(&RequestLabels { method, outcome }).inc();
            metrics.seconds.observe(started.elapsed().as_secs_f64());
            rp
        }
    }

    /// As jsonrpsee's own batch handling, but through [`Self::call`], so calls in a batch
    /// are counted and checked like single ones.
    fn batch<'a>(&self, batch: Batch<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        let this = self.clone();
        async move {
            let mut out = BatchResponseBuilder::new_with_limit(this.max_response_bytes);
            let mut got_notification = false;
            for entry in batch.into_iter() {
                let rp = match entry {
                    Ok(BatchEntry::Call(req)) => this.call(req).await,
                    Ok(BatchEntry::Notification(n)) => {
                        got_notification = true;
                        this.inner.notification(n).await;
                        continue;
                    }
                    Err(e) => {
                        let (e, id) = e.into_parts();
                        MethodResponse::error(id, e)
                    }
                };
                if let Err(too_big) = out.append(rp) {
                    return too_big;
                }
            }
            if out.is_empty() && got_notification {
                MethodResponse::notification()
            } else {
                MethodResponse::from_batch(out.finish())
            }
        }
    }

    fn notification<'a>(
        &self,
        n: Notification<'a>,
    ) -> impl Future<Output = Self::NotificationResponse> + Send + 'a {
        self.inner.notification(n)
    }
}
