//! An in-memory engine for tests and the simulator.

use crate::{Entry, KvRead, KvStore, StoreError, Table, WriteBatch, WriteOp};
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Arc, RwLock};

type Tables = [BTreeMap<Vec<u8>, Vec<u8>>; Table::ALL.len()];

/// A [`KvStore`] in memory. Snapshots share data with the store until the next write
/// (copy on write), so taking one is cheap.
#[derive(Debug, Default, Clone)]
pub struct MemStore {
    tables: Arc<RwLock<Arc<Tables>>>,
}

impl MemStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

/// A frozen view of a [`MemStore`].
#[derive(Debug, Clone)]
pub struct MemSnapshot {
    tables: Arc<Tables>,
}

impl KvRead for MemSnapshot {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.tables[table.index()].get(key).cloned())
    }

    fn range(
        &self,
        table: Table,
        from: &[u8],
        to: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        if to.is_some_and(|to| to < from) {
            return Ok(Vec::new());
        }
        let upper = to.map_or(Bound::Unbounded, Bound::Excluded);
        Ok(self.tables[table.index()]
            .range::<[u8], _>((Bound::Included(from), upper))
            .take(limit)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    fn last(&self, table: Table) -> Result<Option<Entry>, StoreError> {
        Ok(self.tables[table.index()].last_key_value().map(|(k, v)| (k.clone(), v.clone())))
    }
}

impl KvStore for MemStore {
    type Snapshot = MemSnapshot;

    fn snapshot(&self) -> Result<MemSnapshot, StoreError> {
        let guard = self.tables.read().map_err(|_| StoreError::Poisoned)?;
        Ok(MemSnapshot { tables: Arc::clone(&guard) })
    }

    fn write(&self, batch: WriteBatch) -> Result<(), StoreError> {
        let mut guard = self.tables.write().map_err(|_| StoreError::Poisoned)?;
        let tables = Arc::make_mut(&mut guard);
        for op in batch.ops {
            match op {
                WriteOp::Put(t, k, v) => {
                    tables[t.index()].insert(k, v);
                }
                WriteOp::Delete(t, k) => {
                    tables[t.index()].remove(&k);
                }
            }
        }
        Ok(())
    }
}
