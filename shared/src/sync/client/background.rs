//! The device's side of sync with the app closed (`crate::sync::background`): the request
//! the app leaves for its service worker, and the answer the worker brings back.

use super::batch::InFlight;
use super::{ResponseSummary, SyncClient};
use crate::sync::protocol::{self, ProtocolError};
use crate::BatchId;

impl SyncClient {
    /// The request for the service worker to send while the app is closed: a new batch of
    /// every unsent change, the batch in flight's included (sent again under another id,
    /// they are acknowledged again, and stored once: invariant 2). It does not count as in
    /// flight: the app may still send its own. `None` when no edit waits to be sent.
    pub fn request_for_later(&self, fresh_batch_id: BatchId) -> Option<Vec<u8>> {
        self.has_unsent().then(|| self.batch(fresh_batch_id).into_body())
    }

    /// Takes `answer`, the server's answer to `request` (left by [`Self::request_for_later`]
    /// and sent by the service worker), as if this client had sent it; it replaces the
    /// batch in flight, whose changes it carries too. Nothing happens (`Ok(None)`) when the
    /// device has moved on since it left the request: its cursor or scope version changed.
    /// What was acknowledged then goes out again with the next request, and is
    /// acknowledged again (invariant 2).
    pub fn take_answer_for(&mut self, request: &[u8], answer: &[u8]) -> Result<Option<ResponseSummary>, ProtocolError> {
        let decoded = protocol::decode_request(request)?;
        let current =
            decoded.device_id == self.device_id && decoded.cursor == self.cursor && decoded.scope_version == self.scope_version;
        if !current {
            return Ok(None);
        }
        let own = self.in_flight.replace(InFlight::sent_as(request.to_vec(), decoded));
        match self.on_response(answer) {
            Ok(summary) => Ok(Some(summary)),
            Err(err) => {
                // Not an answer after all: this device's own batch is in flight again.
                self.in_flight = own;
                Err(err)
            }
        }
    }
}
