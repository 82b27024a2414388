//! The BMMS app. For field officers it installs from the browser, keeps every record and
//! unsynced edit on the device (IndexedDB), works with no network, and syncs by itself
//! when the signal returns; for supervisors and ministry staff it adds the desk screens
//! (`desk`), which work online.

mod api;
mod browser;
#[cfg(feature = "desk")]
mod budget;
#[cfg(feature = "desk")]
mod dashboard;
#[cfg(feature = "desk")]
mod desk;
mod device;
mod pages;
mod passkey;
#[cfg(feature = "desk")]
mod plans;
mod shrink;
mod storage;
mod text;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(pages::App);
}
