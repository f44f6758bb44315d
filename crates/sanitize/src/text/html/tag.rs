//! Element names: the `Tag` enum and its lookup by name.

/// Element names that mean something here; the rest are `Other`, told
/// apart by a hash of their lower-case name (only to match end tags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tag {
    A,
    Address,
    Applet,
    Area,
    Article,
    Aside,
    Audio,
    Base,
    Basefont,
    Bgsound,
    Blockquote,
    Body,
    Br,
    Button,
    Canvas,
    Caption,
    Center,
    Col,
    Datalist,
    Dd,
    Details,
    Dialog,
    Dir,
    Div,
    Dl,
    Dt,
    Embed,
    Fieldset,
    Figcaption,
    Figure,
    Footer,
    Form,
    Frame,
    Frameset,
    H(u8),
    Head,
    Header,
    Hgroup,
    Hr,
    Html,
    Iframe,
    Img,
    Input,
    Keygen,
    Legend,
    Li,
    Link,
    Listing,
    Main,
    Math,
    Menu,
    Meta,
    Nav,
    Noembed,
    Noframes,
    Noscript,
    Object,
    Ol,
    Optgroup,
    Option,
    P,
    Param,
    Plaintext,
    Pre,
    Script,
    Section,
    Select,
    Source,
    Style,
    Summary,
    Svg,
    Table,
    Tbody,
    Td,
    Template,
    Textarea,
    Tfoot,
    Th,
    Thead,
    Title,
    Tr,
    Track,
    Ul,
    Video,
    Wbr,
    Xmp,
    Other(u32),
}

impl Tag {
    pub(super) fn from_name(name: &[u8]) -> Tag {
        let mut buf = [0u8; 10];
        let Some(lower) = buf.get_mut(..name.len()) else {
            return Tag::Other(name_hash(name));
        };
        for (d, s) in lower.iter_mut().zip(name) {
            *d = s.to_ascii_lowercase();
        }
        match &*lower {
            b"a" => Tag::A,
            b"address" => Tag::Address,
            b"applet" => Tag::Applet,
            b"area" => Tag::Area,
            b"article" => Tag::Article,
            b"aside" => Tag::Aside,
            b"audio" => Tag::Audio,
            b"base" => Tag::Base,
            b"basefont" => Tag::Basefont,
            b"bgsound" => Tag::Bgsound,
            b"blockquote" => Tag::Blockquote,
            b"body" => Tag::Body,
            b"br" => Tag::Br,
            b"button" => Tag::Button,
            b"canvas" => Tag::Canvas,
            b"caption" => Tag::Caption,
            b"center" => Tag::Center,
            b"col" => Tag::Col,
            b"datalist" => Tag::Datalist,
            b"dd" => Tag::Dd,
            b"details" => Tag::Details,
            b"dialog" => Tag::Dialog,
            b"dir" => Tag::Dir,
            b"div" => Tag::Div,
            b"dl" => Tag::Dl,
            b"dt" => Tag::Dt,
            b"embed" => Tag::Embed,
            b"fieldset" => Tag::Fieldset,
            b"figcaption" => Tag::Figcaption,
            b"figure" => Tag::Figure,
            b"footer" => Tag::Footer,
            b"form" => Tag::Form,
            b"frame" => Tag::Frame,
            b"frameset" => Tag::Frameset,
            [b'h', n @ b'1'..=b'6'] => Tag::H(n - b'0'),
            b"head" => Tag::Head,
            b"header" => Tag::Header,
            b"hgroup" => Tag::Hgroup,
            b"hr" => Tag::Hr,
            b"html" => Tag::Html,
            b"iframe" => Tag::Iframe,
            b"img" | b"image" => Tag::Img,
            b"input" => Tag::Input,
            b"keygen" => Tag::Keygen,
            b"legend" => Tag::Legend,
            b"li" => Tag::Li,
            b"link" => Tag::Link,
            b"listing" => Tag::Listing,
            b"main" => Tag::Main,
            b"math" => Tag::Math,
            b"menu" => Tag::Menu,
            b"meta" => Tag::Meta,
            b"nav" => Tag::Nav,
            b"noembed" => Tag::Noembed,
            b"noframes" => Tag::Noframes,
            b"noscript" => Tag::Noscript,
            b"object" => Tag::Object,
            b"ol" => Tag::Ol,
            b"optgroup" => Tag::Optgroup,
            b"option" => Tag::Option,
            b"p" => Tag::P,
            b"param" => Tag::Param,
            b"plaintext" => Tag::Plaintext,
            b"pre" => Tag::Pre,
            b"script" => Tag::Script,
            b"section" => Tag::Section,
            b"select" => Tag::Select,
            b"source" => Tag::Source,
            b"style" => Tag::Style,
            b"summary" => Tag::Summary,
            b"svg" => Tag::Svg,
            b"table" => Tag::Table,
            b"tbody" => Tag::Tbody,
            b"td" => Tag::Td,
            b"template" => Tag::Template,
            b"textarea" => Tag::Textarea,
            b"tfoot" => Tag::Tfoot,
            b"th" => Tag::Th,
            b"thead" => Tag::Thead,
            b"title" => Tag::Title,
            b"tr" => Tag::Tr,
            b"track" => Tag::Track,
            b"ul" => Tag::Ul,
            b"video" => Tag::Video,
            b"wbr" => Tag::Wbr,
            b"xmp" => Tag::Xmp,
            other => Tag::Other(name_hash(other)),
        }
    }

    /// Elements without content or end tag.
    pub(super) fn is_void(self) -> bool {
        use Tag::*;
        matches!(
            self,
            Area | Base
                | Basefont
                | Bgsound
                | Br
                | Col
                | Embed
                | Frame
                | Hr
                | Img
                | Input
                | Keygen
                | Link
                | Meta
                | Param
                | Source
                | Track
                | Wbr
        )
    }

    /// Name of an element whose content is raw text, ended only by its own
    /// end tag: the tokenizer consumes it.
    pub(super) fn raw_name(self) -> Option<&'static [u8]> {
        Some(match self {
            Tag::Script => b"script",
            Tag::Style => b"style",
            Tag::Title => b"title",
            Tag::Textarea => b"textarea",
            Tag::Xmp => b"xmp",
            Tag::Iframe => b"iframe",
            Tag::Noembed => b"noembed",
            Tag::Noframes => b"noframes",
            Tag::Noscript => b"noscript",
            Tag::Plaintext => b"plaintext",
            _ => return None,
        })
    }

    /// Starting one of these ends an open `<p>`.
    pub(super) fn closes_p(self) -> bool {
        use Tag::*;
        matches!(
            self,
            Address
                | Article
                | Aside
                | Blockquote
                | Center
                | Details
                | Dialog
                | Dir
                | Div
                | Dl
                | Dd
                | Dt
                | Fieldset
                | Figcaption
                | Figure
                | Footer
                | Form
                | H(_)
                | Header
                | Hgroup
                | Hr
                | Li
                | Listing
                | Main
                | Menu
                | Nav
                | Ol
                | P
                | Pre
                | Section
                | Summary
                | Table
                | Ul
                | Xmp
                | Plaintext
        )
    }

    /// Starts a line of its own.
    pub(super) fn is_block(self) -> bool {
        use Tag::*;
        self.closes_p() || matches!(self, Tr | Td | Th | Caption | Legend | Br)
    }

    /// Structure that inline end tags cannot close across.
    pub(super) fn is_special(self) -> bool {
        !matches!(self, Tag::Other(_) | Tag::A | Tag::Option | Tag::Optgroup)
    }

    /// End tags of blocks do not close across these.
    pub(super) fn is_scope_boundary(self) -> bool {
        use Tag::*;
        matches!(
            self,
            Table | Td | Th | Caption | Object | Applet | Template | Svg | Math
        )
    }

    /// `<svg/>` and `<math/>` really are self-closing (foreign content).
    pub(super) fn is_foreign(self) -> bool {
        matches!(self, Tag::Svg | Tag::Math)
    }
}

/// FNV-1a of an ASCII-lower-cased name.
fn name_hash(name: &[u8]) -> u32 {
    name.iter().fold(0x811c_9dc5, |h: u32, c| {
        (h ^ u32::from(c.to_ascii_lowercase())).wrapping_mul(0x0100_0193)
    })
}
