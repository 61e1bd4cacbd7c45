//! Browser entry: mounts the infrahaus app into the page body.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
