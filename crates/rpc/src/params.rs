//! Reading positional parameters strictly, with errors that say which parameter is wrong
//! and why (JSON-RPC code -32602).

use alloy_primitives::{Address, B256, Bytes, U256, hex};
use jsonrpsee::types::{ErrorObjectOwned, Params};
use serde_json::Value;

/// JSON-RPC "invalid params".
pub const INVALID_PARAMS: i32 = -32602;

/// An error object with a code and message.
pub fn err(code: i32, msg: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(code, msg.into(), None::<()>)
}

/// An invalid-params error.
pub fn invalid(msg: impl Into<String>) -> ErrorObjectOwned {
    err(INVALID_PARAMS, msg)
}

/// Positional parameters.
pub struct Args {
    method: &'static str,
    values: Vec<Value>,
}

impl Args {
    /// Reads the parameters of `method` (absent parameters are an empty list; named ones are
    /// refused).
    pub fn new(method: &'static str, p: &Params) -> Result<Self, ErrorObjectOwned> {
        let values = match p.as_str() {
            None => Vec::new(),
            Some(s) => match serde_json::from_str::<Value>(s) {
                Ok(Value::Array(v)) => v,
                Ok(Value::Null) => Vec::new(),
                Ok(_) => return Err(invalid(format!("{method} takes positional parameters"))),
                Err(e) => return Err(invalid(format!("{method}: parameters: {e}"))),
            },
        };
        Ok(Self { method, values })
    }

    /// Refuses more than `n` parameters.
    pub fn at_most(self, n: usize) -> Result<Self, ErrorObjectOwned> {
        if self.values.len() > n {
            return Err(invalid(format!(
                "{} takes at most {n} parameters, got {}",
                self.method,
                self.values.len()
            )));
        }
        Ok(self)
    }

    /// Parameter `i`, if present and not null.
    pub fn opt(&self, i: usize) -> Option<&Value> {
        self.values.get(i).filter(|v| !v.is_null())
    }

    /// Parameter `i`, required.
    pub fn get(&self, i: usize, what: &str) -> Result<&Value, ErrorObjectOwned> {
        self.opt(i).ok_or_else(|| {
            invalid(format!("{}: missing parameter {} ({what})", self.method, i + 1))
        })
    }

    /// Number of parameters given.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether none were given.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

fn as_str<'a>(v: &'a Value, what: &str) -> Result<&'a str, ErrorObjectOwned> {
    v.as_str().ok_or_else(|| invalid(format!("{what} must be a string, got {v}")))
}

/// A `0x` hex quantity (or, leniently, a JSON number) as u64.
pub fn u64_of(v: &Value, what: &str) -> Result<u64, ErrorObjectOwned> {
    if let Some(n) = v.as_u64() {
        return Ok(n);
    }
    let s = as_str(v, what)?;
    let digits = s
        .strip_prefix("0x")
        .ok_or_else(|| invalid(format!("{what} must be a 0x-prefixed hex quantity, got {s:?}")))?;
    if digits.is_empty() || digits.len() > 16 {
        return Err(invalid(format!("{what} {s:?} is not a 64-bit quantity")));
    }
    u64::from_str_radix(digits, 16).map_err(|_| invalid(format!("{what} {s:?} is not hex")))
}

/// A `0x` hex quantity (or a JSON number) as U256.
pub fn u256_of(v: &Value, what: &str) -> Result<U256, ErrorObjectOwned> {
    if let Some(n) = v.as_u64() {
        return Ok(U256::from(n));
    }
    let s = as_str(v, what)?;
    let digits = s
        .strip_prefix("0x")
        .ok_or_else(|| invalid(format!("{what} must be a 0x-prefixed hex quantity, got {s:?}")))?;
    if digits.is_empty() || digits.len() > 64 {
        return Err(invalid(format!("{what} {s:?} is not a 256-bit quantity")));
    }
    U256::from_str_radix(digits, 16).map_err(|_| invalid(format!("{what} {s:?} is not hex")))
}

/// `0x`-prefixed hex of `len` bytes (any length with `None`); `kind` names it in errors.
fn hex_of(
    v: &Value,
    what: &str,
    kind: &str,
    len: Option<usize>,
) -> Result<Vec<u8>, ErrorObjectOwned> {
    let s = as_str(v, what)?;
    let digits = s
        .strip_prefix("0x")
        .ok_or_else(|| invalid(format!("{what} must be a 0x-prefixed {kind}, got {s:?}")))?;
    let b = hex::decode(digits).map_err(|_| invalid(format!("{what} {s:?} is not hex")))?;
    match len {
        Some(n) if b.len() != n => {
            Err(invalid(format!("{what} must be {n} bytes, got {}", b.len())))
        }
        _ => Ok(b),
    }
}

/// An address (any letter case; a 0x prefix required).
pub fn address_of(v: &Value, what: &str) -> Result<Address, ErrorObjectOwned> {
    hex_of(v, what, "address", Some(20)).map(|b| Address::from_slice(&b))
}

/// A 32-byte hash.
pub fn b256_of(v: &Value, what: &str) -> Result<B256, ErrorObjectOwned> {
    hex_of(v, what, "hash", Some(32)).map(|b| B256::from_slice(&b))
}

/// `0x` hex data.
pub fn bytes_of(v: &Value, what: &str) -> Result<Bytes, ErrorObjectOwned> {
    hex_of(v, what, "hex string", None).map(Bytes::from)
}

/// A block named by a tag, a number or (EIP-1898) an object with `blockHash` or
/// `blockNumber`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockId {
    /// The head (`latest`, `pending`, `safe`, `finalized`: finality is immediate).
    Latest,
    /// A height (`earliest` is 0).
    Number(u64),
    /// A block hash.
    Hash(B256),
}

/// Reads a block id; `None` (absent) is `latest`.
pub fn block_id_of(v: Option<&Value>) -> Result<BlockId, ErrorObjectOwned> {
    let Some(v) = v else { return Ok(BlockId::Latest) };
    if let Some(o) = v.as_object() {
        if let Some(h) = o.get("blockHash") {
            return Ok(BlockId::Hash(b256_of(h, "blockHash")?));
        }
        if let Some(n) = o.get("blockNumber") {
            return block_id_of(Some(n));
        }
        return Err(invalid("a block object needs blockHash or blockNumber"));
    }
    match v.as_str() {
        Some("latest" | "pending" | "safe" | "finalized") => Ok(BlockId::Latest),
        Some("earliest") => Ok(BlockId::Number(0)),
        _ => Ok(BlockId::Number(u64_of(v, "block number")?)),
    }
}

/// A boolean.
pub fn bool_of(v: Option<&Value>, what: &str) -> Result<bool, ErrorObjectOwned> {
    match v {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(invalid(format!("{what} must be true or false, got {other}"))),
    }
}
