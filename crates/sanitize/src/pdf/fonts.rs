//! Fonts for Chinese, Japanese and Korean text that a PDF does not embed.
//!
//! Japanese PDFs often name `MS-Mincho` or `Ryumin-Light` without
//! embedding it, trusting the reader to have it. hayro brings the 14
//! standard Latin fonts and the CJK CMaps, but no CJK font: without one
//! such text vanishes from the flattened page. hayro maps the text to
//! Unicode through the Adobe-Japan1 (GB1, CNS1, Korea1) UCS2 CMap and draws
//! it with whatever font it is given.
//!
//! The core reads no files, so the process hands it the fonts once, before
//! its sandbox closes the filesystem ([`set_cjk_fonts`]).

use std::sync::{Arc, OnceLock};

use hayro::hayro_interpret::FontResolverFn;
use hayro::hayro_interpret::font::{FallbackFontQuery, FontData, FontQuery};
use hayro::hayro_interpret::hayro_cmap::CidFamily;

/// A serif (明朝) and a sans-serif (ゴシック) font, TrueType or OpenType
/// bytes; either may stand in for the other.
#[derive(Clone, Default)]
pub struct CjkFonts {
    pub serif: Option<Vec<u8>>,
    pub sans: Option<Vec<u8>>,
}

static CJK_FONTS: OnceLock<(Option<FontData>, Option<FontData>)> = OnceLock::new();

/// Gives the flattener its CJK fonts, for the life of the process. Only
/// the first call counts; `false` when the fonts were already set.
pub fn set_cjk_fonts(fonts: CjkFonts) -> bool {
    let data = |bytes: Option<Vec<u8>>| bytes.map(|b| Arc::new(b) as FontData);
    CJK_FONTS.set((data(fonts.serif), data(fonts.sans))).is_ok()
}

/// Whether any CJK font was set.
pub fn has_cjk_fonts() -> bool {
    CJK_FONTS
        .get()
        .is_some_and(|(serif, sans)| serif.is_some() || sans.is_some())
}

/// hayro's own standard fonts, and the CJK fonts for CID-keyed text of a
/// CJK character collection.
pub(super) fn resolver() -> FontResolverFn {
    Arc::new(|query| match query {
        FontQuery::Standard(standard) => Some(standard.get_font_data()),
        FontQuery::Fallback(fallback) => cjk_font(fallback)
            .map(|font| (font, 0))
            .or_else(|| Some(fallback.pick_standard_font().get_font_data())),
    })
}

fn cjk_font(query: &FallbackFontQuery) -> Option<FontData> {
    let family = &query.character_collection.as_ref()?.family;
    if !matches!(
        family,
        CidFamily::AdobeJapan1
            | CidFamily::AdobeGB1
            | CidFamily::AdobeCNS1
            | CidFamily::AdobeKorea1
    ) {
        return None;
    }
    let (serif, sans) = CJK_FONTS.get()?;
    let name = query.post_script_name.as_deref().unwrap_or_default();
    // Mincho, Ryumin, HeiseiMin, Song and Myungjo are the serif faces.
    let wants_serif = query.is_serif
        || ["Min", "Ryumin", "Song", "Myungjo", "Batang"]
            .iter()
            .any(|hint| name.contains(hint));
    let (first, second) = if wants_serif {
        (serif, sans)
    } else {
        (sans, serif)
    };
    first.as_ref().or(second.as_ref()).cloned()
}

/// The CJK fonts set for the process (serif, sans), for the SVG
/// rasterizer's font database (`crate::svg`).
pub(crate) fn cjk_font_data() -> Option<(Option<FontData>, Option<FontData>)> {
    CJK_FONTS.get().cloned()
}
