//! Writes a file of N MANA assessments in the format of the app's "export unsynced edits",
//! for the app benchmark (scripts/bench-app) to import into a browser's storage.
//! Usage: `make_export N PATH`. Deterministic: the same N gives the same records.

use automerge::ActorId;
use bmms_shared::records::{FieldValue, RecordKind};
use bmms_shared::sync::client::SyncClient;
use bmms_shared::sync::protocol;
use bmms_shared::{DeviceId, DocId};
use uuid::Uuid;

const MUNICIPALITIES: [(&str, &str); 6] = [
    ("Cotabato City", "Special Geographic Area"),
    ("Datu Piang", "Maguindanao del Sur"),
    ("Marawi City", "Lanao del Sur"),
    ("Jolo", "Sulu"),
    ("Bongao", "Tawi-Tawi"),
    ("Isabela City", "Basilan"),
];

fn main() {
    let mut args = std::env::args().skip(1);
    let count: u128 = args.next().and_then(|n| n.parse().ok()).expect("usage: make_export N PATH");
    let path = args.next().expect("usage: make_export N PATH");
    let mut client = SyncClient::new(DeviceId(Uuid::from_u128(1)), ActorId::from(vec![0xbe; 16]));
    for i in 0..count {
        let id = client.create(DocId(Uuid::from_u128(0xa55e_0000_0000 + i)), RecordKind::ManaAssessment);
        let (municipality, province) = MUNICIPALITIES[(i % MUNICIPALITIES.len() as u128) as usize];
        client
            .edit(id, |e| {
                e.set("community", FieldValue::Text(format!("Barangay {i:05}")))?;
                e.set("municipality", FieldValue::Text(municipality.into()))?;
                e.set("province", FieldValue::Text(province.into()))?;
                e.set("households", FieldValue::Integer(20 + (i % 300) as i64))?;
                e.set("assessment_date", FieldValue::Date(format!("2026-{:02}-{:02}", 1 + i % 12, 1 + i % 28)))
            })
            .expect("valid values");
    }
    std::fs::write(&path, protocol::encode(&client.export_unsynced())).expect("writable path");
    println!("{count} assessments written to {path}");
}
