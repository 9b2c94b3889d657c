//! Self-contained HTML (placeholder until the HTML renderer lands).

use crate::report::Report;

pub fn render(r: &Report) -> String {
    format!(
        "<!doctype html><pre>{}</pre>",
        super::text::render(r)
            .replace('&', "&amp;")
            .replace('<', "&lt;")
    )
}
