//! The default engine: one redb file, one redb table per [`Table`].

use crate::{Entry, KvRead, KvStore, StoreError, Table, WriteBatch, WriteOp};
use redb::{
    Builder, Database, Durability, ReadTransaction, ReadableDatabase, ReadableTable,
    TableDefinition,
};
use std::path::{Path, PathBuf};

fn def(table: Table) -> TableDefinition<'static, &'static [u8], &'static [u8]> {
    TableDefinition::new(table.name())
}

fn engine(context: &str) -> impl Fn(redb::Error) -> StoreError + '_ {
    move |e| StoreError::Engine(format!("{context}: {e}"))
}

/// A [`KvStore`] in one redb file. Every write is one durable redb transaction.
pub struct RedbStore {
    db: Database,
    path: PathBuf,
}

impl std::fmt::Debug for RedbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbStore").field("path", &self.path).finish()
    }
}

/// The page cache a ledger file gets unless told otherwise: 256 MiB.
pub const DEFAULT_CACHE_BYTES: usize = 256 * 1024 * 1024;

impl RedbStore {
    /// Opens the file at `path`, creating it (and its tables) if it does not exist. A file
    /// that is not a redb database, or is damaged, gives an error.
    ///
    /// Every page checksum is verified on open (redb's integrity check): a plain redb open
    /// trusts the file and may panic on damaged allocator pages, and a node must refuse a
    /// damaged ledger with a clear message instead. The check reads the whole file once.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with_cache(path, DEFAULT_CACHE_BYTES)
    }

    /// [`Self::open`] with a page cache of at most `cache_bytes` (redb's own default, 1 GiB,
    /// would let a node's memory grow to that much on a large ledger).
    pub fn open_with_cache(path: impl AsRef<Path>, cache_bytes: usize) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let shown = path.display().to_string();
        let open_err = |reason: String| StoreError::Open { path: shown.clone(), reason };
        // The integrity check should turn any damage into an error; catching a panic as well
        // keeps a damaged file from ever taking the process down with an engine assertion.
        let opened = std::panic::catch_unwind(|| {
            Builder::new()
                .set_check_integrity_on_open(true)
                .set_cache_size(cache_bytes)
                .create(&path)
        })
        .map_err(|_| open_err("the storage engine failed on damaged data".into()))?;
        let db = opened.map_err(|e| match e {
            // Not damage: another process has it (a node of this chain already running).
            redb::DatabaseError::DatabaseAlreadyOpen => StoreError::InUse(shown.clone()),
            e => open_err(e.to_string()),
        })?;
        let store = Self { db, path };
        // Create every table up front so readers never meet a missing one.
        let tx = store.db.begin_write().map_err(|e| engine(&shown)(e.into()))?;
        for t in Table::ALL {
            tx.open_table(def(t)).map_err(|e| StoreError::Open {
                path: shown.clone(),
                reason: format!("table {}: {e}", t.name()),
            })?;
        }
        tx.commit().map_err(|e| engine(&shown)(e.into()))?;
        Ok(store)
    }

    /// The file path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// A redb read transaction.
pub struct RedbSnapshot {
    tx: ReadTransaction,
}

impl KvRead for RedbSnapshot {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let t = self.tx.open_table(def(table)).map_err(|e| engine("open table")(e.into()))?;
        let v = t.get(key).map_err(|e| engine("get")(e.into()))?;
        Ok(v.map(|g| g.value().to_vec()))
    }

    fn range(
        &self,
        table: Table,
        from: &[u8],
        to: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        let t = self.tx.open_table(def(table)).map_err(|e| engine("open table")(e.into()))?;
        let iter = match to {
            Some(to) => t.range::<&[u8]>(from..to),
            None => t.range::<&[u8]>(from..),
        }
        .map_err(|e| engine("range")(e.into()))?;
        let mut out = Vec::new();
        for item in iter.take(limit) {
            let (k, v) = item.map_err(|e| engine("range")(e.into()))?;
            out.push((k.value().to_vec(), v.value().to_vec()));
        }
        Ok(out)
    }

    fn last(&self, table: Table) -> Result<Option<Entry>, StoreError> {
        let t = self.tx.open_table(def(table)).map_err(|e| engine("open table")(e.into()))?;
        let last = t.last().map_err(|e| engine("last")(e.into()))?;
        Ok(last.map(|(k, v)| (k.value().to_vec(), v.value().to_vec())))
    }
}

impl KvStore for RedbStore {
    type Snapshot = RedbSnapshot;

    fn snapshot(&self) -> Result<RedbSnapshot, StoreError> {
        let tx = self.db.begin_read().map_err(|e| engine("begin read")(e.into()))?;
        Ok(RedbSnapshot { tx })
    }

    fn write(&self, batch: WriteBatch) -> Result<(), StoreError> {
        let mut tx = self.db.begin_write().map_err(|e| engine("begin write")(e.into()))?;
        tx.set_durability(Durability::Immediate)
            .map_err(|e| StoreError::Engine(format!("set durability: {e}")))?;
        {
            let mut tables = Vec::with_capacity(Table::ALL.len());
            for t in Table::ALL {
                tables.push(tx.open_table(def(t)).map_err(|e| engine("open table")(e.into()))?);
            }
            for op in &batch.ops {
                match op {
                    WriteOp::Put(t, k, v) => {
                        tables[t.index()]
                            .insert(k.as_slice(), v.as_slice())
                            .map_err(|e| engine("insert")(e.into()))?;
                    }
                    WriteOp::Delete(t, k) => {
                        tables[t.index()]
                            .remove(k.as_slice())
                            .map_err(|e| engine("remove")(e.into()))?;
                    }
                }
            }
        }
        tx.commit().map_err(|e| engine("commit")(e.into()))
    }
}
