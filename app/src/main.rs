//! The BMMS app for field officers: installs from the browser, keeps every record and
//! unsynced edit on the device (IndexedDB), works with no network, and syncs by itself
//! when the signal returns.

mod api;
mod browser;
mod device;
mod pages;
mod storage;
mod text;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(pages::App);
}
