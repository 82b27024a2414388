//! The sentences of sync scopes: where officers work (the desk's Team screen) and what a
//! phone keeps beyond its scope (docs/sync-protocol.md, "Sync scope").

#[cfg_attr(not(feature = "desk"), allow(dead_code))]
pub struct ScopeText {
    pub where_officers_work: &'static str,
    pub where_intro: &'static str,
    pub officer: &'static str,
    pub all_municipalities: &'static str,
    pub remove: &'static str,
    pub add_municipality: &'static str,
    pub add: &'static str,
    pub areas_saved: fn(&str) -> String,
    pub search_beyond: &'static str,
    pub found_on_server: &'static str,
    pub unnamed: &'static str,
    pub on_this_phone: &'static str,
    pub keep_on_phone: &'static str,
    pub kept_until: fn(&str) -> String,
}

pub static SCOPE_EN: ScopeText = ScopeText {
    where_officers_work: "Where officers work",
    where_intro: "A field officer's phone holds the assessments of the municipalities given here, \
                  the tasks assigned to them, what they made and what they chose to keep. \
                  Changes reach the phone at its next sync.",
    officer: "Officer",
    all_municipalities: "None given: the phone holds only what the officer made, their tasks and what they keep.",
    remove: "Remove",
    add_municipality: "Municipality to add",
    add: "Add",
    areas_saved: |name| format!("Saved. {name}'s phone follows at its next sync."),
    search_beyond: "Search the server too",
    found_on_server: "Found on the server",
    unnamed: "(no community)",
    on_this_phone: "On this phone",
    keep_on_phone: "Keep on this phone",
    kept_until: |until| format!("Kept on this phone until {until}; it arrives with the next sync."),
};
