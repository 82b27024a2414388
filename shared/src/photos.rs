//! Photos of records: how a device names them and sends them (docs/sync-protocol.md,
//! "Photos").
//!
//! A photo is named by the SHA-256 of its bytes, written as 64 lowercase hex digits; a
//! record refers to its photos by those names (a `FieldType::Photos` field), so the
//! record syncs as ever and the photo travels apart, at its own pace. The upload is
//! resumable: the device announces the photo (`POST /api/v1/photos`), the server says how
//! many of its bytes it holds, and the device sends the rest in chunks (`PATCH`), each
//! with its own SHA-256, so a dropped link costs at most the chunk that was on the way.
//! The server checks each chunk, then the whole photo against its name.
//!
//! [`Upload`] is the device's side, without input or output: the app and the benchmark
//! drive it over their own HTTP.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A photo is at most this large once shrunk on the device (the app aims at 300 KB).
pub const MAX_PHOTO_BYTES: u64 = 2 * 1024 * 1024;
/// A chunk carries at most this many bytes. A chunk cut off by a dropped link is sent
/// again whole, so three drops cost at most 8 % of a 300 KB photo; each chunk costs a round
/// trip more (600 ms on 2G, against 1.3 s to send its bytes at 50 kbit/s).
pub const CHUNK_BYTES: usize = 8 * 1024;
/// The header that names where a chunk starts in the photo.
pub const OFFSET_HEADER: &str = "upload-offset";
/// The header that carries a chunk's SHA-256, in hex.
pub const CHECKSUM_HEADER: &str = "chunk-sha256";
/// What a photo may be.
pub const MEDIA_TYPES: [&str; 3] = ["image/jpeg", "image/webp", "image/png"];

/// The name of `bytes`: their SHA-256 in lowercase hex.
pub fn name_of(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Whether `name` is a photo's name (64 lowercase hex digits).
pub fn is_name(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `POST /api/v1/photos`: a device announces a photo it will send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPhoto {
    /// The photo's name ([`name_of`] its bytes).
    pub sha256: String,
    pub size: u64,
    /// One of [`MEDIA_TYPES`].
    pub media_type: String,
    /// The record the photo was taken for.
    pub record: crate::DocId,
}

/// How much of a photo the server holds: the answer to the announcement and to each chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoProgress {
    /// Bytes received, from the start: the next chunk starts here.
    pub offset: u64,
    /// The whole photo arrived, matched its name, and is stored.
    pub complete: bool,
}

/// One chunk to send: `PATCH /api/v1/photos/{sha256}` with these headers and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub offset: u64,
    /// Where the body lies in the photo's bytes.
    pub range: std::ops::Range<usize>,
    /// The body's SHA-256, in hex ([`CHECKSUM_HEADER`]).
    pub checksum: String,
}

/// The device's side of one photo's upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    size: u64,
    /// Where the server said it stands; `None` until it was asked.
    offset: Option<u64>,
    complete: bool,
    /// Bytes put on the wire, counted again when sent again: what the link carried.
    pub bytes_sent: u64,
}

impl Upload {
    pub fn new(size: u64) -> Self {
        Upload { size, offset: None, complete: false, bytes_sent: 0 }
    }

    /// The next chunk of `photo` to send, or `None` when the server must first be asked
    /// where it stands (at the start and after any failure), or when the photo is complete.
    pub fn next_chunk(&mut self, photo: &[u8]) -> Option<Chunk> {
        let offset = self.offset.filter(|_| !self.complete)?;
        let start = usize::try_from(offset).ok().filter(|start| *start < photo.len())?;
        let end = (start + CHUNK_BYTES).min(photo.len());
        self.bytes_sent += (end - start) as u64;
        Some(Chunk { offset, range: start..end, checksum: hex(&Sha256::digest(&photo[start..end])) })
    }

    /// The server answered the announcement or a chunk.
    pub fn on_progress(&mut self, progress: PhotoProgress) {
        self.complete = progress.complete;
        self.offset = Some(progress.offset.min(self.size));
    }

    /// A chunk was lost on the way (or refused): ask the server where it stands.
    pub fn on_failure(&mut self) {
        self.offset = None;
    }

    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// Bytes the server holds, as last heard.
    pub fn offset(&self) -> u64 {
        self.offset.unwrap_or(0)
    }
}

/// Requests of one photo in a row that move it nowhere before [`send`] gives up.
pub const FRUITLESS_REQUESTS: usize = 3;

/// What one request of an upload got back: the server's progress, or why not.
pub type Answered = Result<PhotoProgress, Unanswered>;

/// A request of an upload that did not move it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unanswered {
    /// What to tell the officer.
    pub message: String,
    /// The answer's HTTP status; `None` when no answer came (the link failed).
    pub status: Option<u16>,
}

/// How [`send`] ended, when the photo is not whole on the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotSent {
    /// The server will not take this photo as it is (a 4xx to its announcement).
    Refused(String),
    /// The link or the server failed, or the upload stopped moving: the next attempt
    /// goes on from where the server stands.
    Failed(String),
}

/// Sends one photo: asks where the server stands, then chunks until it is whole. `exchange`
/// makes one request (the announcement of `photo` for `None`, else the chunk) over the
/// caller's HTTP; `progress` hears how many bytes the server holds after each. The app and
/// the service worker both send photos through this.
pub async fn send<F: std::future::Future<Output = Answered>>(
    bytes: &[u8],
    mut exchange: impl FnMut(Option<&Chunk>) -> F,
    mut progress: impl FnMut(u64),
    not_moving: &str,
) -> Result<(), NotSent> {
    let mut upload = Upload::new(bytes.len() as u64);
    // The furthest the server has been, and chunks in a row that did not take it further.
    let (mut furthest, mut fruitless) = (0, 0);
    while fruitless < FRUITLESS_REQUESTS {
        let chunk = upload.next_chunk(bytes);
        match exchange(chunk.as_ref()).await {
            Ok(answer) => upload.on_progress(answer),
            Err(Unanswered { message, status: Some(401 | 403) }) => return Err(NotSent::Failed(message)),
            // A chunk damaged or cut on the way, or from where the server does not stand:
            // ask where it stands and go on from there.
            Err(Unanswered { status: Some(400..=499), .. }) if chunk.is_some() => upload.on_failure(),
            Err(Unanswered { message, status: Some(400..=499) }) => return Err(NotSent::Refused(message)),
            Err(Unanswered { message, .. }) => return Err(NotSent::Failed(message)),
        }
        progress(upload.offset());
        if upload.is_complete() {
            return Ok(());
        }
        if upload.offset() > furthest {
            (furthest, fruitless) = (upload.offset(), 0);
        } else if chunk.is_some() {
            fruitless += 1;
        }
    }
    Err(NotSent::Failed(not_moving.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_photo_goes_out_in_chunks_and_resumes_where_the_server_stands() {
        let photo: Vec<u8> = (0..2 * CHUNK_BYTES as u32 + 7_000).map(|i| (i % 251) as u8).collect();
        let mut upload = Upload::new(photo.len() as u64);
        assert_eq!(upload.next_chunk(&photo), None, "the server is asked first");
        upload.on_progress(PhotoProgress { offset: 0, complete: false });
        let first = upload.next_chunk(&photo).unwrap();
        assert_eq!(first.range, 0..CHUNK_BYTES);
        assert_eq!(first.checksum, name_of(&photo[0..CHUNK_BYTES]));
        // The answer was lost: ask again, and go on from what the server holds.
        upload.on_failure();
        assert_eq!(upload.next_chunk(&photo), None);
        upload.on_progress(PhotoProgress { offset: CHUNK_BYTES as u64, complete: false });
        assert_eq!(upload.next_chunk(&photo).unwrap().range, CHUNK_BYTES..2 * CHUNK_BYTES);
        upload.on_progress(PhotoProgress { offset: 2 * CHUNK_BYTES as u64, complete: false });
        assert_eq!(upload.next_chunk(&photo).unwrap().range, 2 * CHUNK_BYTES..photo.len());
        upload.on_progress(PhotoProgress { offset: photo.len() as u64, complete: true });
        assert!(upload.is_complete());
        assert_eq!(upload.next_chunk(&photo), None);
        // The lost answer's chunk had arrived: nothing was sent twice.
        assert_eq!(upload.bytes_sent, photo.len() as u64);
    }

    #[test]
    fn names_are_sha256_in_lowercase_hex() {
        let name = name_of(b"abc");
        assert_eq!(name, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert!(is_name(&name));
        assert!(!is_name(&name.to_uppercase()));
        assert!(!is_name(&name[1..]));
    }
}
