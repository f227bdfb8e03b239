//! The node's side of the JSON-RPC server ([`jinlian_rpc`]): submitting transactions and
//! asking the pool go through the host thread's queue; the node's status is a snapshot the
//! host refreshes.

use crate::host::HostEvent;
use alloy_primitives::B256;
use jinlian_primitives::RecoveredTx;
use jinlian_rpc::{Backend, BoxFuture, NodeStatus, PoolAnswer, PoolQuery, SubmitError};
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// How long a client waits for the host to take a transaction.
const SUBMIT_TIMEOUT: Duration = Duration::from_secs(10);

/// The node behind its RPC.
pub struct NodeBackend {
    /// The host's queue.
    pub host: SyncSender<HostEvent>,
    /// The host's latest status snapshot.
    pub status: Arc<RwLock<NodeStatus>>,
}

impl Backend for NodeBackend {
    fn submit(&self, tx: RecoveredTx) -> BoxFuture<Result<B256, SubmitError>> {
        let (reply, rx) = tokio::sync::oneshot::channel();
        let sent = self.host.try_send(HostEvent::Submit(Box::new(tx), reply));
        Box::pin(async move {
            if sent.is_err() {
                return Err(SubmitError::Busy("the node is busy; try again later".into()));
            }
            match tokio::time::timeout(SUBMIT_TIMEOUT, rx).await {
                Ok(Ok(r)) => r,
                _ => Err(SubmitError::Busy("the node did not answer in time; try again".into())),
            }
        })
    }

    fn pool(&self, q: PoolQuery) -> BoxFuture<PoolAnswer> {
        let (reply, rx) = tokio::sync::oneshot::channel();
        let sent = self.host.try_send(HostEvent::Pool(q, reply));
        Box::pin(async move {
            if sent.is_err() {
                return PoolAnswer::default();
            }
            match tokio::time::timeout(SUBMIT_TIMEOUT, rx).await {
                Ok(Ok(a)) => a,
                _ => PoolAnswer::default(),
            }
        })
    }

    fn status(&self) -> NodeStatus {
        self.status.read().map(|s| s.clone()).unwrap_or_default()
    }
}
