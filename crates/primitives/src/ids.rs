//! Newtypes for numbers that are easy to mix up.

macro_rules! id_newtype {
    ($(#[$doc:meta])* $name:ident($inner:ty)) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default,
            serde::Serialize, serde::Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub $inner);

        impl alloy_rlp::Encodable for $name {
            fn encode(&self, out: &mut dyn alloy_rlp::BufMut) {
                self.0.encode(out)
            }
            fn length(&self) -> usize {
                self.0.length()
            }
        }

        impl alloy_rlp::Decodable for $name {
            fn decode(buf: &mut &[u8]) -> alloy_rlp::Result<Self> {
                <$inner as alloy_rlp::Decodable>::decode(buf).map(Self)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<$inner> for $name {
            fn from(v: $inner) -> Self {
                Self(v)
            }
        }
    };
}

id_newtype!(
    /// A block height (genesis is 0).
    Height(u64)
);
id_newtype!(
    /// A PBFT view number.
    View(u64)
);
id_newtype!(
    /// A group (ledger) id.
    GroupId(u32)
);

impl Height {
    /// The next height, or `None` at `u64::MAX`.
    pub fn checked_next(self) -> Option<Self> {
        self.0.checked_add(1).map(Self)
    }
}
