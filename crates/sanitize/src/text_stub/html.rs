// placeholder until the HTML module lands (being written in parallel)
use super::links::{LinkMode, LinkStats};
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct HtmlStats { pub scripts: usize, pub styles: usize, pub comments: usize, pub forms: usize, pub hidden: usize, pub images: usize, pub tracking_pixels: usize, pub embedded: usize, pub links: LinkStats }
pub struct HtmlText { pub text: String, pub stats: HtmlStats }
pub fn html_to_text(html: &str, _links: LinkMode) -> HtmlText { HtmlText { text: html.to_owned(), stats: HtmlStats::default() } }
