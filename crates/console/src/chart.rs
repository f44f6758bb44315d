//! Stacked bar charts as inline SVG, drawn on the server: no JavaScript
//! and nothing fetched (the zone has no Internet, and the CSP allows no
//! script). Written here because the charts are a few rectangles and
//! labels: a plotting crate would bring a font stack to draw them.

use std::fmt::Write;

use mukaika_quarantine::Bucket;

/// The verdicts in stacking order, with their colours.
const SERIES: [(&str, &str); 5] = [
    ("sanitized", "#2e8b57"),
    ("held", "#d4a017"),
    ("rejected", "#c0392b"),
    ("infected", "#7b241c"),
    ("deleted", "#7f8c8d"),
];

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 180.0;
const LEFT: f64 = 40.0;
const BOTTOM: f64 = 24.0;

/// Escapes text for SVG (labels are ours, but text is text).
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A stacked bar per bucket, labelled every `label_every` buckets by `label`.
pub fn bars(
    buckets: &[Bucket],
    label: impl Fn(u64) -> String,
    label_every: usize,
    title: &str,
) -> String {
    let max = buckets
        .iter()
        .map(|b| b.verdicts.values().sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let n = buckets.len().max(1) as f64;
    let slot = (WIDTH - LEFT) / n;
    let bar = (slot * 0.8).max(1.0);
    let plot = HEIGHT - BOTTOM;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
        escape(title)
    );
    let _ = write!(
        svg,
        r##"<line x1="{LEFT}" y1="{plot}" x2="{WIDTH}" y2="{plot}" stroke="#999"/>"##
    );
    let _ = write!(
        svg,
        r#"<text x="{}" y="10" text-anchor="end">{max}</text>"#,
        LEFT - 4.0
    );
    let _ = write!(
        svg,
        r#"<text x="{}" y="{plot}" text-anchor="end">0</text>"#,
        LEFT - 4.0
    );
    for (i, bucket) in buckets.iter().enumerate() {
        let x = LEFT + i as f64 * slot + (slot - bar) / 2.0;
        let mut y = plot;
        let total: u64 = bucket.verdicts.values().sum();
        let known: u64 = SERIES
            .iter()
            .filter_map(|(v, _)| bucket.verdicts.get(*v))
            .sum();
        let other = [("other", "#34495e", total - known)];
        let series = SERIES
            .iter()
            .map(|(v, c)| (*v, *c, bucket.verdicts.get(*v).copied().unwrap_or(0)))
            .chain(other);
        for (verdict, colour, count) in series.filter(|s| s.2 > 0) {
            let h = count as f64 / max as f64 * (plot - 12.0);
            y -= h;
            let _ = write!(
                svg,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{bar:.1}" height="{h:.1}" fill="{colour}"><title>{}: {} {count}</title></rect>"#,
                escape(&label(bucket.start)),
                escape(verdict)
            );
        }
        if i % label_every.max(1) == 0 {
            let _ = write!(
                svg,
                r#"<text x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
                x + bar / 2.0,
                HEIGHT - 8.0,
                escape(&label(bucket.start))
            );
        }
    }
    let mut lx = LEFT;
    for (verdict, colour) in SERIES {
        let _ = write!(
            svg,
            r#"<rect x="{lx}" y="0" width="8" height="8" fill="{colour}"/><text x="{}" y="8">{verdict}</text>"#,
            lx + 11.0
        );
        lx += 80.0;
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_stack_and_escape() {
        let mut b = Bucket {
            start: 0,
            ..Bucket::default()
        };
        b.verdicts.insert("sanitized".into(), 3);
        b.verdicts.insert("<script>".into(), 1);
        let svg = bars(&[b, Bucket::default()], |s| format!("<{s}>"), 1, "t\"");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<rect").count(), 2 + SERIES.len());
        assert!(!svg.contains("<script>") && !svg.contains("<0>"));
        assert!(svg.contains("&lt;0&gt;") && svg.contains("aria-label=\"t&quot;\""));
    }
}
