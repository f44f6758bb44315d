//! What the verification found, in RFC 8601's words, and the three things
//! made from it: the `Authentication-Results:` field, the log summary and
//! the notice's warning.
//!
//! Every name written out (a signing domain, the From domain) comes from
//! the sender. It is written only if it is a plain ASCII domain
//! ([`crate::config::is_domain`]); anything else is left out, so no CR, LF,
//! `;` or comment from outside ever reaches the field or the notice.

use serde::Serialize;

/// One method's result (RFC 8601 section 2.7). Never `Pass` unless the
/// method passed: a DNS failure or a timeout is `TempError`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Verified.
    Pass,
    /// Verified as wrong: a bad signature, an IP not allowed, not aligned.
    Fail,
    /// SPF `~all`: probably not allowed.
    SoftFail,
    /// SPF `?all`, or a DKIM signature that could not be used.
    Neutral,
    /// Nothing to verify: no signature, no record.
    None,
    /// The answer could not be had now (DNS down, too slow): try later.
    TempError,
    /// A broken record or signature: the sender must fix it.
    PermError,
}

impl Verdict {
    /// The RFC 8601 word: `pass`, `fail`, `temperror`…
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::SoftFail => "softfail",
            Verdict::Neutral => "neutral",
            Verdict::None => "none",
            Verdict::TempError => "temperror",
            Verdict::PermError => "permerror",
        }
    }
}

/// The DMARC policy the From domain publishes (`p=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DmarcPolicy {
    /// `p=none`: monitor only.
    None,
    /// `p=quarantine`.
    Quarantine,
    /// `p=reject`.
    Reject,
}

/// One DKIM signature's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signature {
    /// Its result.
    pub result: Verdict,
    /// `d=`, if a plain domain.
    pub domain: Option<String>,
    /// `s=`, if a plain label.
    pub selector: Option<String>,
}

/// Everything verified for one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Results {
    /// The name this field is written under.
    #[serde(skip)]
    pub authserv_id: String,
    /// SPF of the MAIL FROM domain (or of the HELO name for a null sender).
    pub spf: Verdict,
    /// The domain SPF was checked for, if a plain domain.
    pub spf_domain: Option<String>,
    /// Whether `spf_domain` is the HELO name (`smtp.helo`) rather than the
    /// MAIL FROM domain (`smtp.mailfrom`).
    pub spf_helo: bool,
    /// Each DKIM signature (at most [`crate::MAX_SIGNATURES`]); empty: none.
    pub dkim: Vec<Signature>,
    /// DMARC of the From domain.
    pub dmarc: Verdict,
    /// The From domain's published policy, if it has a record.
    pub dmarc_policy: Option<DmarcPolicy>,
    /// ARC chain (RFC 8617) of the forwarders before us.
    pub arc: Verdict,
    /// The From (RFC 5322) domain, if one plain domain.
    pub from_domain: Option<String>,
    /// The From domain is one of `own_domains` and the client is not in
    /// `trusted_clients`.
    pub own_domain_untrusted: bool,
    /// The verification ran out of `timeout_ms` (what was unknown is
    /// `temperror`).
    pub timed_out: bool,
}

/// The notice's warning line, in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// 日本語.
    pub ja: String,
    /// English.
    pub en: String,
}

impl Results {
    /// Every method `verdict`: what is written when nothing could be
    /// verified (a timeout: `temperror`; a crate panic or a message over
    /// the limits: `permerror`).
    pub fn unknown(authserv_id: &str, verdict: Verdict) -> Self {
        Self {
            authserv_id: authserv_id.to_owned(),
            spf: verdict,
            spf_domain: None,
            spf_helo: false,
            dkim: vec![Signature {
                result: verdict,
                domain: None,
                selector: None,
            }],
            dmarc: verdict,
            dmarc_policy: None,
            arc: verdict,
            from_domain: None,
            own_domain_untrusted: false,
            timed_out: false,
        }
    }

    /// The DKIM result of the message as a whole: `pass` if any signature
    /// passed, else the first signature's result, `none` without one.
    pub fn dkim_overall(&self) -> Verdict {
        if self.dkim.iter().any(|s| s.result == Verdict::Pass) {
            return Verdict::Pass;
        }
        self.dkim.first().map_or(Verdict::None, |s| s.result)
    }

    /// Whether some answer was missing for DNS reasons (or time): the only
    /// case in which verifying again later could change the results.
    pub fn has_temperror(&self) -> bool {
        self.timed_out
            || [self.spf, self.dmarc, self.arc].contains(&Verdict::TempError)
            || self.dkim.iter().any(|s| s.result == Verdict::TempError)
    }

    /// Whether the notice should warn of spoofing: DMARC failed, or the
    /// From domain is ours but the mail did not come through our servers.
    pub fn suspected_spoofing(&self) -> bool {
        self.dmarc == Verdict::Fail || self.own_domain_untrusted
    }

    /// `spf=pass dkim=pass dmarc=pass arc=none`, for the log.
    pub fn summary(&self) -> String {
        format!(
            "spf={} dkim={} dmarc={} arc={}",
            self.spf.as_str(),
            self.dkim_overall().as_str(),
            self.dmarc.as_str(),
            self.arc.as_str()
        )
    }

    /// The whole `Authentication-Results:` field (RFC 8601), folded, ending
    /// in `eol` (`"\r\n"` or `"\n"`, as the message it goes on top of).
    pub fn header_field(&self, eol: &str) -> String {
        let mut items = Vec::new();
        let mut spf = format!("spf={}", self.spf.as_str());
        if let Some(domain) = &self.spf_domain {
            let property = if self.spf_helo {
                "smtp.helo"
            } else {
                "smtp.mailfrom"
            };
            spf.push_str(&format!(" {property}={domain}"));
        }
        items.push(spf);
        if self.dkim.is_empty() {
            items.push("dkim=none".into());
        }
        for signature in &self.dkim {
            let mut dkim = format!("dkim={}", signature.result.as_str());
            if let Some(domain) = &signature.domain {
                dkim.push_str(&format!(" header.d={domain}"));
            }
            if let Some(selector) = &signature.selector {
                dkim.push_str(&format!(" header.s={selector}"));
            }
            items.push(dkim);
        }
        let mut dmarc = format!("dmarc={}", self.dmarc.as_str());
        if let Some(policy) = self.dmarc_policy {
            let policy = match policy {
                DmarcPolicy::None => "none",
                DmarcPolicy::Quarantine => "quarantine",
                DmarcPolicy::Reject => "reject",
            };
            dmarc.push_str(&format!(" policy.dmarc={policy}"));
        }
        if let Some(domain) = &self.from_domain {
            dmarc.push_str(&format!(" header.from={domain}"));
        }
        items.push(dmarc);
        items.push(format!("arc={}", self.arc.as_str()));
        let mut field = format!("Authentication-Results: {};", self.authserv_id);
        for (i, item) in items.iter().enumerate() {
            field.push_str(eol);
            field.push('\t');
            field.push_str(item);
            if i + 1 < items.len() {
                field.push(';');
            }
        }
        field.push_str(eol);
        field
    }

    /// The notice's `なりすましの疑い` line, or `None` when nothing is
    /// suspicious. The lead wires it into the core's notice `Context`.
    pub fn warning(&self) -> Option<Warning> {
        let domain = self.from_domain.as_deref();
        if self.dmarc == Verdict::Fail {
            let (ja_domain, en_domain) = match domain {
                Some(d) => (format!("（{d}）"), format!(" ({d})")),
                None => (String::new(), String::new()),
            };
            return Some(Warning {
                ja: format!(
                    "なりすましの疑い: 差出人のドメイン{ja_domain}の送信ドメイン認証 (DMARC) に失敗しました。差出人に別の方法で確かめてから、返信や添付の操作をしてください。"
                ),
                en: format!(
                    "Suspected spoofing: the sender's domain{en_domain} failed sender authentication (DMARC). Check with the sender by other means before replying or opening anything."
                ),
            });
        }
        if self.own_domain_untrusted {
            let d = domain.unwrap_or("-");
            return Some(Warning {
                ja: format!(
                    "なりすましの疑い: 差出人は自組織のドメイン（{d}）ですが、自組織のメールサーバーを経由していません。"
                ),
                en: format!(
                    "Suspected spoofing: the sender is in our own domain ({d}), but the mail did not come through our own mail servers."
                ),
            });
        }
        None
    }
}

/// `value` if it is a plain ASCII domain (lowercased), else `None`.
pub(crate) fn plain_domain(value: &str) -> Option<String> {
    crate::config::is_domain(value).then(|| value.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn results() -> Results {
        Results {
            authserv_id: "mx.city.lg.jp".into(),
            spf: Verdict::Pass,
            spf_domain: Some("example.jp".into()),
            spf_helo: false,
            dkim: vec![Signature {
                result: Verdict::Pass,
                domain: Some("example.jp".into()),
                selector: Some("s1".into()),
            }],
            dmarc: Verdict::Pass,
            dmarc_policy: Some(DmarcPolicy::Reject),
            arc: Verdict::None,
            from_domain: Some("example.jp".into()),
            own_domain_untrusted: false,
            timed_out: false,
        }
    }

    #[test]
    fn field_is_rfc8601_and_folded() {
        assert_eq!(
            results().header_field("\r\n"),
            "Authentication-Results: mx.city.lg.jp;\r\n\
             \tspf=pass smtp.mailfrom=example.jp;\r\n\
             \tdkim=pass header.d=example.jp header.s=s1;\r\n\
             \tdmarc=pass policy.dmarc=reject header.from=example.jp;\r\n\
             \tarc=none\r\n"
        );
        let none = Results {
            dkim: vec![],
            spf_domain: None,
            from_domain: None,
            dmarc_policy: None,
            ..results()
        };
        assert_eq!(
            none.header_field("\n"),
            "Authentication-Results: mx.city.lg.jp;\n\tspf=pass;\n\tdkim=none;\n\tdmarc=pass;\n\tarc=none\n"
        );
        assert_eq!(none.summary(), "spf=pass dkim=none dmarc=pass arc=none");
    }

    #[test]
    fn names_from_outside_are_written_only_if_plain() {
        assert_eq!(plain_domain("Example.JP"), Some("example.jp".into()));
        for bad in ["a;dkim=pass", "a\r\nX: y", "a (b)", "例え.jp", "", "a..b"] {
            assert_eq!(plain_domain(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn warning_says_why_in_both_languages() {
        assert_eq!(results().warning(), None);
        let dmarc = Results {
            dmarc: Verdict::Fail,
            ..results()
        };
        let w = dmarc.warning().unwrap();
        assert!(
            w.ja.starts_with("なりすましの疑い") && w.ja.contains("example.jp"),
            "{}",
            w.ja
        );
        assert!(
            w.en.starts_with("Suspected spoofing") && w.en.contains("DMARC"),
            "{}",
            w.en
        );
        let own = Results {
            own_domain_untrusted: true,
            ..results()
        };
        assert!(own.warning().unwrap().ja.contains("自組織"));
        assert!(own.suspected_spoofing());
    }

    #[test]
    fn temperror_is_never_hidden() {
        assert!(!results().has_temperror());
        let slow = Results {
            timed_out: true,
            ..results()
        };
        assert!(slow.has_temperror());
        let dkim = Results {
            dkim: vec![Signature {
                result: Verdict::TempError,
                domain: None,
                selector: None,
            }],
            ..results()
        };
        assert!(dkim.has_temperror());
        assert_eq!(dkim.dkim_overall(), Verdict::TempError);
    }
}
