//! The ids of BMMS, one type each, so that a device id passed where a document id is
//! expected does not compile. Each is a UUID on the wire (serde) and in PostgreSQL
//! (with the `sqlx` feature, which the server turns on).

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(transparent))]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new id, random (UUID version 4).
            pub fn random() -> Self {
                $name(Uuid::new_v4())
            }

            /// The id as the UUID it is.
            pub fn uuid(self) -> Uuid {
                self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                $name(id)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(text).map($name)
            }
        }
    };
}

id_type!(
    /// A record: one Automerge document (a MANA assessment, a monitoring task).
    DocId
);
id_type!(
    /// A device (a browser profile on a phone or laptop) that syncs.
    DeviceId
);
id_type!(
    /// One sync request's batch of changes; sent again, it has the effect of once.
    BatchId
);
id_type!(
    /// A person with an account.
    UserId
);
id_type!(
    /// An organization: a ministry, office or agency, or OCM, BPDA, MFBM.
    OrgId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_a_plain_uuid_on_the_wire() {
        let id = DocId(Uuid::from_u128(7));
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{}\"", Uuid::from_u128(7)));
        assert_eq!(serde_json::from_str::<DocId>(&json).unwrap(), id);
        assert_eq!(id.to_string().parse::<DocId>().unwrap(), id);
    }
}
