//! Sync: the wire protocol between devices and the server, the sans-IO client core that
//! keeps a device's outbox and cursor, the merge rules of every server, and an in-memory
//! server with the same rules as the real one, so that the invariants can be tested as properties without sockets.

pub mod background;
pub mod bounds;
pub mod client;
pub mod memory_server;
pub mod merge;
pub mod operations;
pub mod protocol;
