//! JSON-RPC over HTTP or WebSocket.

use crate::Error;
use crate::proof::TxProof;
use crate::tx::{BLOCK_LIMIT_AHEAD, DEFAULT_GAS, Envelope, consortium, raw_hex};
use alloy_primitives::{Address, B256, Bytes, Log, LogData, TxKind, U256};
use alloy_sol_types::SolCall;
use jinlian_crypto::KeyPair;
use jinlian_primitives::Transaction;
use jsonrpsee::core::client::{ClientT, Subscription, SubscriptionClientT};
use jsonrpsee::core::params::ArrayParams;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::time::Duration;

enum Inner {
    Http(jsonrpsee::http_client::HttpClient),
    Ws(jsonrpsee::ws_client::WsClient),
}

/// A connection to one node (one group: the URL's path, `/` or `/group/<id>`).
pub struct Client {
    inner: Inner,
    url: String,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("url", &self.url).finish_non_exhaustive()
    }
}

fn map_err(e: jsonrpsee::core::ClientError) -> Error {
    match e {
        jsonrpsee::core::ClientError::Call(c) => Error::Rpc {
            code: c.code(),
            message: c.message().to_string(),
            data: c.data().map(|d| d.get().trim_matches('"').to_string()),
        },
        other => {
            // The transport's own message is terse ("client error (Connect)"): add its causes.
            let mut msg = other.to_string();
            let mut cause = std::error::Error::source(&other);
            while let Some(c) = cause {
                let text = c.to_string();
                if !msg.contains(&text) {
                    msg = format!("{msg}: {text}");
                }
                cause = c.source();
            }
            Error::Transport(msg)
        }
    }
}

fn params(values: Vec<Value>) -> Result<ArrayParams, Error> {
    let mut p = ArrayParams::new();
    for v in values {
        p.insert(v).map_err(|e| Error::Transport(e.to_string()))?;
    }
    Ok(p)
}

fn hex_u64(v: &Value, method: &'static str) -> Result<u64, Error> {
    v.as_str()
        .and_then(|s| s.strip_prefix("0x"))
        .and_then(|s| u64::from_str_radix(s, 16).ok())
        .ok_or_else(|| Error::Answer { method, detail: format!("{v} is not a hex quantity") })
}

/// A receipt, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// Transaction hash.
    pub transaction_hash: B256,
    /// Block height.
    pub block_number: u64,
    /// Block hash.
    pub block_hash: B256,
    /// FISCO status code (0 is success).
    pub status_code: u32,
    /// Gas used.
    pub gas_used: u64,
    /// Address of a deployed contract.
    pub contract_address: Option<Address>,
    /// Return or revert data.
    pub output: Bytes,
    /// Logs.
    pub logs: Vec<Log>,
}

impl Receipt {
    /// Whether the transaction succeeded.
    pub fn success(&self) -> bool {
        self.status_code == 0
    }

    /// The revert reason, if it reverted with `Error(string)`.
    pub fn revert_reason(&self) -> Option<String> {
        let reason =
            (!self.success()).then(|| alloy_sol_types::decode_revert_reason(&self.output))??;
        let reason = reason.strip_prefix("revert: ").map(str::to_string).unwrap_or(reason);
        (!reason.trim().is_empty()).then_some(reason)
    }

    fn from_json(v: &Value) -> Result<Self, Error> {
        let m = "eth_getTransactionReceipt";
        let bad = |what: &str| Error::Answer { method: m, detail: format!("{what} in {v}") };
        let b256 = |k: &str| -> Result<B256, Error> {
            v[k].as_str().and_then(|s| s.parse().ok()).ok_or_else(|| bad(k))
        };
        let bytes = |x: &Value| -> Option<Bytes> {
            alloy_primitives::hex::decode(x.as_str()?.trim_start_matches("0x"))
                .ok()
                .map(Bytes::from)
        };
        let logs = v["logs"]
            .as_array()
            .ok_or_else(|| bad("logs"))?
            .iter()
            .map(|l| {
                let address: Address = l["address"]
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| bad("log address"))?;
                let topics: Vec<B256> = l["topics"]
                    .as_array()
                    .ok_or_else(|| bad("log topics"))?
                    .iter()
                    .map(|t| t.as_str().and_then(|s| s.parse().ok()).ok_or_else(|| bad("topic")))
                    .collect::<Result<_, _>>()?;
                let data = bytes(&l["data"]).ok_or_else(|| bad("log data"))?;
                Ok(Log { address, data: LogData::new_unchecked(topics, data) })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(Self {
            transaction_hash: b256("transactionHash")?,
            block_number: hex_u64(&v["blockNumber"], m)?,
            block_hash: b256("blockHash")?,
            status_code: u32::try_from(hex_u64(&v["statusCode"], m)?)
                .map_err(|_| bad("statusCode"))?,
            gas_used: hex_u64(&v["gasUsed"], m)?,
            contract_address: v["contractAddress"].as_str().and_then(|s| s.parse().ok()),
            output: bytes(&v["output"]).unwrap_or_default(),
            logs,
        })
    }
}

impl Client {
    /// Connects to `http://…` or `ws://…` (the path names the group: `/` or `/group/<id>`).
    pub async fn connect(url: &str) -> Result<Self, Error> {
        let inner = if url.starts_with("ws://") || url.starts_with("wss://") {
            Inner::Ws(
                jsonrpsee::ws_client::WsClientBuilder::default()
                    .max_response_size(64 * 1024 * 1024)
                    .build(url)
                    .await
                    .map_err(|e| Error::Transport(format!("cannot connect to {url}: {e}")))?,
            )
        } else if url.starts_with("http://") || url.starts_with("https://") {
            Inner::Http(
                jsonrpsee::http_client::HttpClientBuilder::default()
                    .max_response_size(64 * 1024 * 1024)
                    .request_timeout(Duration::from_secs(60))
                    .build(url)
                    .map_err(|e| Error::Transport(format!("bad RPC URL {url}: {e}")))?,
            )
        } else {
            return Err(Error::Transport(format!(
                "{url:?} is not an RPC URL: use http://host:port or ws://host:port"
            )));
        };
        Ok(Self { inner, url: url.to_string() })
    }

    /// The URL connected to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Calls any method with positional parameters.
    pub async fn request<T: DeserializeOwned>(
        &self,
        method: &'static str,
        args: Vec<Value>,
    ) -> Result<T, Error> {
        let p = params(args)?;
        match &self.inner {
            Inner::Http(c) => c.request(method, p).await.map_err(map_err),
            Inner::Ws(c) => c.request(method, p).await.map_err(map_err),
        }
    }

    /// Subscribes (WebSocket only) to `newHeads`, `logs` or `newPendingTransactions`.
    pub async fn subscribe(&self, args: Vec<Value>) -> Result<Subscription<Value>, Error> {
        let Inner::Ws(c) = &self.inner else {
            return Err(Error::Transport("subscriptions need a ws:// URL".into()));
        };
        c.subscribe("eth_subscribe", params(args)?, "eth_unsubscribe").await.map_err(map_err)
    }

    /// The chain id.
    pub async fn chain_id(&self) -> Result<u64, Error> {
        let v: Value = self.request("eth_chainId", vec![]).await?;
        hex_u64(&v, "eth_chainId")
    }

    /// The head height.
    pub async fn block_number(&self) -> Result<u64, Error> {
        let v: Value = self.request("eth_blockNumber", vec![]).await?;
        hex_u64(&v, "eth_blockNumber")
    }

    /// What the node says about itself (`jinlian_nodeInfo`).
    pub async fn node_info(&self) -> Result<Value, Error> {
        self.request("jinlian_nodeInfo", vec![]).await
    }

    /// Sends a signed transaction; its hash.
    pub async fn send(&self, tx: &Transaction) -> Result<B256, Error> {
        let v: Value = self.request("eth_sendRawTransaction", vec![raw_hex(tx).into()]).await?;
        v.as_str().and_then(|s| s.parse().ok()).ok_or_else(|| Error::Answer {
            method: "eth_sendRawTransaction",
            detail: format!("{v} is not a hash"),
        })
    }

    /// The receipt of a transaction, if it is committed.
    pub async fn receipt(&self, hash: B256) -> Result<Option<Receipt>, Error> {
        let v: Value = self.request("eth_getTransactionReceipt", vec![json!(hash)]).await?;
        if v.is_null() { Ok(None) } else { Receipt::from_json(&v).map(Some) }
    }

    /// Waits for a receipt up to `timeout`, polling after 5 ms and then less often (up to every
    /// 200 ms): a block commits within milliseconds on an idle chain.
    pub async fn wait_for_receipt(&self, hash: B256, timeout: Duration) -> Result<Receipt, Error> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut pause = Duration::from_millis(5);
        loop {
            if let Some(r) = self.receipt(hash).await? {
                return Ok(r);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::Timeout(hash));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(200));
        }
    }

    /// `eth_call` on the latest state: the return data (a revert is an [`Error::Rpc`] with
    /// code 3 and the revert data).
    pub async fn call(
        &self,
        from: Option<Address>,
        to: Address,
        data: &[u8],
    ) -> Result<Bytes, Error> {
        let mut c = json!({"to": to, "data": format!("0x{}", alloy_primitives::hex::encode(data))});
        if let Some(f) = from {
            c["from"] = json!(f);
        }
        let v: Value = self.request("eth_call", vec![c, "latest".into()]).await?;
        v.as_str()
            .and_then(|s| alloy_primitives::hex::decode(s.trim_start_matches("0x")).ok())
            .map(Bytes::from)
            .ok_or_else(|| Error::Answer { method: "eth_call", detail: format!("{v} is not data") })
    }

    /// A typed read-only call (`alloy_sol_types::sol!` call types).
    pub async fn call_typed<C: SolCall>(&self, to: Address, call: &C) -> Result<C::Return, Error> {
        let out = self.call(None, to, &call.abi_encode()).await?;
        C::abi_decode_returns(&out).map_err(|e| Error::Answer {
            method: "eth_call",
            detail: format!("cannot decode the return: {e}"),
        })
    }

    /// The proof of a committed transaction (`jinlian_getTransactionProof`).
    pub async fn proof(&self, hash: B256) -> Result<Option<TxProof>, Error> {
        let v: Value = self.request("jinlian_getTransactionProof", vec![json!(hash)]).await?;
        if v.is_null() {
            return Ok(None);
        }
        serde_json::from_value(v).map(Some).map_err(|e| Error::Answer {
            method: "jinlian_getTransactionProof",
            detail: e.to_string(),
        })
    }
}

/// A key bound to a chain: builds, signs and sends consortium transactions and waits for
/// their receipts.
pub struct Signer<'a> {
    client: &'a Client,
    key: KeyPair,
    chain_id: u64,
    group_id: u64,
    /// How long to wait for a receipt.
    pub timeout: Duration,
}

impl std::fmt::Debug for Signer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("address", &self.key.address())
            .field("chain_id", &self.chain_id)
            .field("group_id", &self.group_id)
            .finish_non_exhaustive()
    }
}

impl<'a> Signer<'a> {
    /// Reads the chain id and group from the node and checks the key's suite is the chain's.
    pub async fn new(client: &'a Client, key: KeyPair) -> Result<Self, Error> {
        let info = client.node_info().await?;
        let suite = info["suite"].as_str().unwrap_or_default();
        if suite != key.suite().name() {
            return Err(Error::Tx(format!(
                "the key is a {} key but the chain uses {suite}",
                key.suite().name()
            )));
        }
        let chain_id = info["chainId"].as_u64().ok_or_else(|| Error::Answer {
            method: "jinlian_nodeInfo",
            detail: "no chainId".into(),
        })?;
        let group_id = info["groupId"].as_u64().unwrap_or(1);
        Ok(Self { client, key, chain_id, group_id, timeout: Duration::from_secs(60) })
    }

    /// The signer's address.
    pub fn address(&self) -> Address {
        self.key.address()
    }

    /// Signs a consortium transaction valid for the next [`BLOCK_LIMIT_AHEAD`] blocks.
    pub async fn sign(
        &self,
        to: TxKind,
        value: U256,
        input: Bytes,
        gas: u64,
    ) -> Result<Transaction, Error> {
        let head = self.client.block_number().await?;
        let env = Envelope {
            chain_id: self.chain_id,
            group_id: self.group_id,
            block_limit: head + BLOCK_LIMIT_AHEAD,
        };
        consortium(&self.key, env, to, value, input, gas)
    }

    /// Sends and waits for the receipt.
    pub async fn send(
        &self,
        to: TxKind,
        value: U256,
        input: Bytes,
        gas: u64,
    ) -> Result<Receipt, Error> {
        let tx = self.sign(to, value, input, gas).await?;
        let hash = self.client.send(&tx).await?;
        self.client.wait_for_receipt(hash, self.timeout).await
    }

    /// Deploys `code` (constructor arguments appended).
    pub async fn deploy(&self, code: Bytes) -> Result<Receipt, Error> {
        self.send(TxKind::Create, U256::ZERO, code, DEFAULT_GAS).await
    }

    /// A typed contract call in a transaction.
    pub async fn transact<C: SolCall>(&self, to: Address, call: &C) -> Result<Receipt, Error> {
        self.send(TxKind::Call(to), U256::ZERO, call.abi_encode().into(), DEFAULT_GAS).await
    }

    /// Sends `value` to `to`.
    pub async fn transfer(&self, to: Address, value: U256) -> Result<Receipt, Error> {
        self.send(TxKind::Call(to), value, Bytes::new(), 21_000).await
    }
}
