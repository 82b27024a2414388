//! Live updates for the desk screens. After a write that those screens show commits, its
//! handler calls [`Hub::announce`]; the hub passes the news to PostgreSQL
//! (`NOTIFY bmms_changes`), which delivers it to every server replica listening, and each
//! replica's hub hands it to the open event streams of that organization
//! (`GET /api/v1/events`, server-sent events).
//!
//! The notice is sent after the commit, from a task of its own, rather than inside the
//! writing transaction: PostgreSQL serializes the commits of notifying transactions, and
//! sync batches must not queue behind each other for the sake of a screen refresh.
//! Announcements waiting at the same moment are merged into one notice per organization
//! and topic.

use bmms_shared::OrgId;
use serde::Serialize;
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, watch};

/// The PostgreSQL notification channel.
const CHANNEL: &str = "bmms_changes";

/// What changed, so a screen reloads only what it shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    /// Assessments or tasks.
    Records,
    Conflicts,
    /// A device's sync health.
    Devices,
}

impl Topic {
    pub fn as_str(self) -> &'static str {
        match self {
            Topic::Records => "records",
            Topic::Conflicts => "conflicts",
            Topic::Devices => "devices",
        }
    }

    fn parse(s: &str) -> Option<Topic> {
        [Topic::Records, Topic::Conflicts, Topic::Devices].into_iter().find(|t| t.as_str() == s)
    }
}

type Change = (OrgId, Topic);

/// This replica's side of live updates.
#[derive(Debug)]
pub struct Hub {
    /// Announcements on their way to PostgreSQL.
    outgoing: mpsc::UnboundedSender<Change>,
    outgoing_queue: Mutex<Option<mpsc::UnboundedReceiver<Change>>>,
    /// Notices from PostgreSQL, to the open streams.
    changes: broadcast::Sender<Change>,
    /// True once the server shuts down: open streams end, so shutdown does not wait on them.
    closed: watch::Sender<bool>,
    /// True while the notification connection listens (tests wait for it).
    listening: watch::Sender<bool>,
}

impl Default for Hub {
    fn default() -> Self {
        let (outgoing, queue) = mpsc::unbounded_channel();
        Hub {
            outgoing,
            outgoing_queue: Mutex::new(Some(queue)),
            changes: broadcast::channel(256).0,
            closed: watch::channel(false).0,
            listening: watch::channel(false).0,
        }
    }
}

impl Hub {
    /// Live-update streams open on this replica now (for the metrics).
    pub fn open_streams(&self) -> usize {
        self.changes.receiver_count()
    }

    /// Tells every replica's screens that `topic` changed in `org_id`. Call it after the
    /// write committed.
    pub fn announce(&self, org_id: OrgId, topic: Topic) {
        // Fails only once the server is shutting down.
        let _ = self.outgoing.send((org_id, topic));
    }

    /// A new stream's view of the hub: the notices, and the shutdown flag.
    pub fn subscribe(&self) -> (broadcast::Receiver<Change>, watch::Receiver<bool>) {
        (self.changes.subscribe(), self.closed.subscribe())
    }

    /// Returns once notices are being received.
    pub async fn wait_until_listening(&self) {
        let _ = self.listening.subscribe().wait_for(|listening| *listening).await;
    }

    /// Ends every open stream, and the hub's tasks.
    pub fn close(&self) {
        self.closed.send_replace(true);
    }

    /// Starts sending announcements and listening to PostgreSQL's notices, until the hub
    /// closes; a lost connection is made again.
    pub fn start(self: &Arc<Self>, pool: PgPool) {
        let Some(mut queue) = self.outgoing_queue.lock().expect("not poisoned").take() else { return };
        let sender_pool = pool.clone();
        let mut closed = self.closed.subscribe();
        tokio::spawn(async move {
            loop {
                let first = tokio::select! {
                    next = queue.recv() => match next { Some(change) => change, None => return },
                    _ = closed.wait_for(|closed| *closed) => return,
                };
                let mut batch = BTreeSet::from([first]);
                while let Ok(more) = queue.try_recv() {
                    batch.insert(more);
                }
                for (org_id, topic) in batch {
                    let payload = format!("{org_id}:{}", topic.as_str());
                    if let Err(err) = sqlx::query("select pg_notify($1, $2)").bind(CHANNEL).bind(payload).execute(&sender_pool).await {
                        tracing::warn!(error = %err, "live updates: could not announce a change");
                    }
                }
            }
        });
        let hub = Arc::clone(self);
        tokio::spawn(async move {
            let mut closed = hub.closed.subscribe();
            loop {
                tokio::select! {
                    result = hub.listen(&pool) => {
                        if let Err(err) = result {
                            tracing::warn!(error = %err, "live updates: lost the notification connection; reconnecting");
                        }
                    }
                    _ = closed.wait_for(|closed| *closed) => return,
                }
                hub.listening.send_replace(false);
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        });
    }

    async fn listen(&self, pool: &PgPool) -> sqlx::Result<()> {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(CHANNEL).await?;
        self.listening.send_replace(true);
        loop {
            let notice = listener.recv().await?;
            let parsed = notice.payload().split_once(':').and_then(|(org, topic)| Some((org.parse().ok()?, Topic::parse(topic)?)));
            if let Some(change) = parsed {
                // No open stream is not an error.
                let _ = self.changes.send(change);
            }
        }
    }
}
