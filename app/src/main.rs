//! The BMMS app: sign-in, and a page that says who is signed in.

mod api;
mod pages;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(pages::App);
}
