//! Plain HTTP pages on the RPC port, in front of jsonrpsee: `/metrics` (Prometheus text) and
//! the explorer under `/explorer`. Other requests go on to JSON-RPC unchanged.

use crate::Rpc;
use jsonrpsee::server::{HttpBody, HttpRequest, HttpResponse};
use prometheus_client::registry::Registry;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What the pages read.
pub(crate) struct Web {
    pub(crate) registry: Arc<std::sync::RwLock<Registry>>,
    pub(crate) rpc: Arc<Rpc>,
    /// Pages rendered at once (the rest wait, up to [`PAGE_WAIT`], then get 503): keeps
    /// page views from taking the cores consensus needs.
    pub(crate) permits: Arc<tokio::sync::Semaphore>,
}

/// Pages rendered at once.
pub(crate) const PAGE_PERMITS: usize = 4;
/// How long a page request waits for its turn.
const PAGE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// A page: status, content type, body.
pub(crate) struct Page {
    pub(crate) status: u16,
    pub(crate) content_type: &'static str,
    pub(crate) body: String,
    /// Where a redirect (303) leads.
    pub(crate) location: Option<String>,
}

impl Page {
    pub(crate) fn html(status: u16, body: String) -> Self {
        Self { status, content_type: "text/html; charset=utf-8", body, location: None }
    }

    fn text(status: u16, content_type: &'static str, body: String) -> Self {
        Self { status, content_type, body, location: None }
    }
}

impl Web {
    /// Answers a GET for `path` (`query` without the `?`), or `None` if it is not ours.
    fn answer(&self, path: &str, query: &str) -> Option<Page> {
        if path == "/metrics" {
            let mut body = String::new();
            let encoded = match self.registry.read() {
                Ok(reg) => prometheus_client::encoding::text::encode(&mut body, &reg),
                Err(_) => Err(std::fmt::Error),
            };
            return Some(match encoded {
                Ok(()) => Page::text(
                    200,
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    body,
                ),
                Err(e) => Page::text(
                    500,
                    "text/plain; charset=utf-8",
                    format!("cannot encode the metrics: {e}\n"),
                ),
            });
        }
        let rest = path.strip_prefix("/explorer")?;
        if !(rest.is_empty() || rest.starts_with('/')) {
            return None;
        }
        Some(crate::explorer::page(&self.rpc, rest.trim_end_matches('/'), query))
    }
}

/// The tower layer that puts [`Web`] in front of jsonrpsee.
#[derive(Clone)]
pub(crate) struct WebLayer(pub(crate) Arc<Web>);

impl<S> tower::Layer<S> for WebLayer {
    type Service = WebService<S>;

    fn layer(&self, inner: S) -> WebService<S> {
        WebService { inner, web: self.0.clone() }
    }
}

#[derive(Clone)]
pub(crate) struct WebService<S> {
    inner: S,
    web: Arc<Web>,
}

impl<S> tower::Service<HttpRequest> for WebService<S>
where
    S: tower::Service<HttpRequest, Response = HttpResponse, Error = BoxError>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = HttpResponse;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: HttpRequest) -> Self::Future {
        let path = req.uri().path();
        let ours = matches!(*req.method(), http::Method::GET | http::Method::HEAD)
            && (path == "/metrics" || path == "/explorer" || path.starts_with("/explorer/"));
        if !ours {
            return Box::pin(self.inner.call(req));
        }
        let web = self.web.clone();
        let path = path.to_string();
        let query = req.uri().query().unwrap_or_default().to_string();
        Box::pin(async move {
            let permit = tokio::time::timeout(PAGE_WAIT, web.permits.clone().acquire_owned()).await;
            let page = match permit {
                Ok(Ok(permit)) => {
                    // Pages read the ledger: off the async threads.
                    let shown = path.clone();
                    let answered = tokio::task::spawn_blocking(move || {
                        let _permit = permit;
                        web.answer(&shown, &query)
                    })
                    .await;
                    match answered {
                        Ok(Some(page)) => page,
                        Ok(None) => {
                            Page::text(404, "text/plain; charset=utf-8", "not found\n".into())
                        }
                        Err(e) => {
                            tracing::error!("explorer page {path} failed: {e}");
                            Page::text(500, "text/plain; charset=utf-8", "the page failed\n".into())
                        }
                    }
                }
                _ => Page::text(
                    503,
                    "text/plain; charset=utf-8",
                    "busy: too many page requests at once; retry shortly\n".into(),
                ),
            };
            let mut resp = http::Response::builder()
                .status(page.status)
                .header(http::header::CONTENT_TYPE, page.content_type)
                .header(http::header::CACHE_CONTROL, "no-store")
                .header(http::header::X_CONTENT_TYPE_OPTIONS, "nosniff")
                .header(http::header::X_FRAME_OPTIONS, "DENY")
                .header(
                    http::header::CONTENT_SECURITY_POLICY,
                    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'",
                );
            if page.status == 503 {
                resp = resp.header(http::header::RETRY_AFTER, "1");
            }
            if let Some(l) = &page.location {
                resp = resp.header(http::header::LOCATION, l);
            }
            let resp = resp.body(HttpBody::from(page.body))?;
            Ok(resp)
        })
    }
}
