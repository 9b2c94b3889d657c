//! Every code list of the product (SPEC section 4), defined once.
//!
//! A code has a canonical English identifier (what the database, json, csv
//! and exports hold), a Swedish and an English label (what reports print),
//! and aliases that people actually type. Parsing is case-insensitive and
//! forgiving about å/ä/ö, so `Forsorjningsstod` finds `social_assistance`.
//! The parser, the store and the report renderers all use these enums, so a
//! new code is added in exactly one place.

use std::fmt;

/// Report language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Lang {
    #[default]
    Sv,
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Result<Lang, CodeError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "sv" | "se" | "svenska" | "swedish" => Ok(Lang::Sv),
            "en" | "engelska" | "english" => Ok(Lang::En),
            _ => Err(CodeError {
                field: "lang",
                value: s.to_string(),
                accepted: "sv, en".into(),
            }),
        }
    }

    /// Pick the label for this language.
    pub fn pick<'a>(self, sv: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Sv => sv,
            Lang::En => en,
        }
    }
}

/// A value that is not in a code list. Names the field, the value and what
/// would be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field} '{value}': accepted are {accepted}")]
pub struct CodeError {
    pub field: &'static str,
    pub value: String,
    pub accepted: String,
}

/// Fold a user-typed value for comparison: lower case, å/ä→a, ö→o, é→e,
/// dashes unified, surrounding space removed, inner spaces and underscores
/// treated alike.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.trim().chars() {
        let c = match c {
            'å' | 'ä' | 'Å' | 'Ä' | 'à' | 'á' => 'a',
            'ö' | 'Ö' | 'ø' | 'Ø' => 'o',
            'é' | 'è' | 'É' => 'e',
            '–' | '—' | '‐' => '-',
            ' ' | '_' => ' ',
            c => c.to_ascii_lowercase(),
        };
        if c == ' ' && out.ends_with(' ') {
            continue;
        }
        out.push(c);
    }
    out
}

/// The behaviour shared by every code list.
pub trait Code: Sized + Copy + Eq + 'static {
    /// Field name used in error messages ("support", "outcome", ...).
    const FIELD: &'static str;
    /// Every value, in report order.
    const ALL: &'static [Self];
    fn code(self) -> &'static str;
    fn sv(self) -> &'static str;
    fn en(self) -> &'static str;
    fn aliases(self) -> &'static [&'static str];

    fn label(self, lang: Lang) -> &'static str {
        lang.pick(self.sv(), self.en())
    }

    /// Parse a canonical code, a Swedish or English label or an alias.
    fn parse(s: &str) -> Result<Self, CodeError> {
        // Fast path: the canonical code as written by exports and templates.
        if let Some(v) = Self::from_code(s) {
            return Ok(v);
        }
        let f = fold(s);
        if !f.is_empty() {
            for &v in Self::ALL {
                if fold(v.code()) == f
                    || fold(v.sv()) == f
                    || fold(v.en()) == f
                    || v.aliases().iter().any(|a| fold(a) == f)
                {
                    return Ok(v);
                }
            }
        }
        Err(CodeError {
            field: Self::FIELD,
            value: s.to_string(),
            accepted: Self::accepted(),
        })
    }

    /// Look up a canonical code exactly as the database stores it.
    fn from_code(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.code() == s)
    }

    /// "a (Label A), b (Label B), ..." for error messages.
    fn accepted() -> String {
        Self::ALL
            .iter()
            .map(|v| format!("{} ({})", v.code(), v.sv()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Position in `ALL`, used as a dense index by the report.
    fn index(self) -> usize {
        Self::ALL.iter().position(|&v| v == self).unwrap_or(0)
    }
}

macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident, $field:literal, {
        $($variant:ident => ($code:literal, $sv:literal, $en:literal $(, $alias:literal)* $(,)?)),+ $(,)?
    }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl Code for $name {
            const FIELD: &'static str = $field;
            const ALL: &'static [Self] = &[$($name::$variant),+];
            fn code(self) -> &'static str { match self { $($name::$variant => $code),+ } }
            fn sv(self) -> &'static str { match self { $($name::$variant => $sv),+ } }
            fn en(self) -> &'static str { match self { $($name::$variant => $en),+ } }
            fn aliases(self) -> &'static [&'static str] {
                match self { $($name::$variant => &[$($alias),*]),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }

        impl rusqlite::types::ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(rusqlite::types::ToSqlOutput::from(self.code()))
            }
        }

        impl rusqlite::types::FromSql for $name {
            fn column_result(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
                let s = v.as_str()?;
                Self::from_code(s).ok_or_else(|| rusqlite::types::FromSqlError::Other(
                    format!("unknown {} code '{}' in database (run `sustrack check`)", $field, s).into()))
            }
        }
    };
}

code_enum!(Gender, "gender", {
    Woman => ("woman", "Kvinna", "Woman", "K", "W", "F", "kvinnor", "women", "female", "kv"),
    Man => ("man", "Man", "Man", "M", "män", "men", "male"),
});

code_enum!(Support, "support", {
    SicknessBenefit => ("sickness_benefit", "Sjukpenning", "Sickness benefit", "sjp"),
    RehabBenefit => ("rehab_benefit", "Rehabiliteringsersättning", "Rehabilitation benefit"),
    ActivityCompensation => ("activity_compensation", "Aktivitetsersättning", "Activity compensation", "ake"),
    SicknessCompensation => ("sickness_compensation", "Sjukersättning", "Sickness compensation", "sje"),
    SocialAssistance => ("social_assistance", "Försörjningsstöd", "Social assistance", "ekonomiskt bistånd", "fbs"),
    UnemploymentBenefit => ("unemployment_benefit", "Arbetslöshetsersättning", "Unemployment benefit", "a-kassa", "akassa"),
    ActivitySupport => ("activity_support", "Aktivitetsstöd", "Activity support"),
    Establishment => ("establishment", "Etableringsersättning", "Establishment benefit"),
    Wage => ("wage", "Lön", "Wage", "salary", "lon"),
    StudentFinance => ("student_finance", "Studiemedel", "Student finance", "csn"),
    None => ("none", "Ingen offentlig försörjning", "No public support", "ingen"),
    Other => ("other", "Annan", "Other", "annat", "övrigt"),
    Unknown => ("unknown", "Okänd", "Unknown", "vet ej", "okant"),
});

code_enum!(
    /// Time in public support before start (tid i offentlig försörjning).
    YearsInSupport, "years-in-support", {
    UpTo1 => ("0-1", "Upp till 1 år", "Up to 1 year", "0–1", "<1", "upp till 1"),
    From1To3 => ("1-3", "1–3 år", "1–3 years", "1–3"),
    From3To6 => ("3-6", "3–6 år", "3–6 years", "3–6"),
    From6To9 => ("6-9", "6–9 år", "6–9 years", "6–9"),
    Over9 => ("9+", "Mer än 9 år", "More than 9 years", ">9", "over 9"),
    NotApplicable => ("na", "Ej tillämpligt", "Not applicable", "n/a", "ej tillampligt"),
});

code_enum!(Education, "education", {
    NoneOrUnknown => ("none_or_unknown", "Saknas/okänd", "None or unknown", "saknas", "okänd", "unknown"),
    Compulsory => ("compulsory", "Förgymnasial", "Compulsory school", "grundskola", "forgymnasial"),
    UpperSecondary => ("upper_secondary", "Gymnasial", "Upper secondary", "gymnasium"),
    PostSecondary => ("post_secondary", "Eftergymnasial", "Post-secondary", "högskola", "universitet"),
});

code_enum!(Referrer, "referrer", {
    Af => ("af", "Arbetsförmedlingen", "Public Employment Service"),
    Fk => ("fk", "Försäkringskassan", "Social Insurance Agency"),
    Municipality => ("municipality", "Kommun", "Municipality", "kommunen", "socialtjänst"),
    Region => ("region", "Region (hälso- och sjukvård)", "Region (health care)", "vården", "hälso- och sjukvård", "vc"),
    SelfReferral => ("self", "Egen anmälan", "Self-referral", "egen", "själv"),
    Other => ("other", "Annan", "Other", "annat"),
});

code_enum!(
    /// What happened at exit (vad hände vid avslut).
    Outcome, "outcome", {
    Work => ("work", "Arbete", "Work", "arbete/anställning"),
    Studies => ("studies", "Studier", "Studies", "studie"),
    JobSeeking => ("job_seeking", "Arbetssökande", "Job seeking"),
    OtherVocational => ("other_vocational", "Annan arbetslivsinriktad insats", "Other vocational intervention"),
    MedicalRehab => ("medical_rehab", "Medicinsk rehabilitering", "Medical rehabilitation"),
    SicknessCompensation => ("sickness_compensation", "Sjukersättning", "Sickness compensation"),
    ParentalLeave => ("parental_leave", "Föräldraledighet", "Parental leave"),
    Moved => ("moved", "Flytt", "Moved", "flyttat"),
    Dropout => ("dropout", "Avbrott", "Dropout", "avbrutit"),
    Other => ("other", "Annat", "Other", "annan"),
});

impl Outcome {
    /// "To work or studies" = work + studies (SPEC section 4).
    pub fn is_work_or_studies(self) -> bool {
        matches!(self, Outcome::Work | Outcome::Studies)
    }
}

code_enum!(StepProgress, "step-progress", {
    Yes => ("yes", "Ja", "Yes", "j", "y"),
    No => ("no", "Nej", "No", "n"),
    Unknown => ("unknown", "Okänt", "Unknown", "vet ej", "okänd"),
});

code_enum!(QualityOfLife, "quality-of-life", {
    Improved => ("improved", "Förbättrad", "Improved", "ökad", "okad", "bättre"),
    Unchanged => ("unchanged", "Oförändrad", "Unchanged", "samma"),
    Worse => ("worse", "Försämrad", "Worse", "sämre"),
    Unknown => ("unknown", "Okänt", "Unknown", "vet ej", "okänd"),
});

code_enum!(InterventionKind, "kind", {
    Individual => ("individual", "Individinsats", "Individual", "individ"),
    Volume => ("volume", "Volyminsats", "Volume", "volym", "grupp"),
    Structural => ("structural", "Strukturinsats", "Structural", "struktur", "strukturell"),
});

code_enum!(
    /// What kind of occasion an activity was (SPEC section 13).
    ActivityKind, "activity-kind", {
    Seminar => ("seminar", "Seminarium", "Seminar", "föreläsning", "seminarie", "kompetensdag"),
    Training => ("training", "Utbildning", "Training", "kurs"),
    Network => ("network", "Nätverksträff", "Network meeting", "nätverk", "natverkstraff"),
    Information => ("information", "Informationsträff", "Information meeting", "info", "informationsmöte"),
    Other => ("other", "Annat", "Other", "annan", "övrigt"),
});

code_enum!(
    /// What became of a referral (SPEC section 13). `returned` is
    /// återremiss.
    Decision, "decision", {
    Started => ("started", "Påbörjad insats", "Started", "startad", "påbörjad", "start", "beviljad"),
    Declined => ("declined", "Avslag", "Declined", "avslagen", "nej", "avböjd"),
    Returned => ("returned", "Återremiss", "Returned", "återremitterad", "ateremiss"),
    Withdrawn => ("withdrawn", "Återtagen", "Withdrawn", "återkallad", "tillbakadragen"),
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swedish_labels_parse_with_or_without_diacritics() {
        assert_eq!(
            Support::parse("Försörjningsstöd"),
            Ok(Support::SocialAssistance)
        );
        assert_eq!(
            Support::parse("forsorjningsstod"),
            Ok(Support::SocialAssistance)
        );
        assert_eq!(
            Support::parse("SOCIAL_ASSISTANCE"),
            Ok(Support::SocialAssistance)
        );
        assert_eq!(Gender::parse("K"), Ok(Gender::Woman));
        assert_eq!(Gender::parse("m"), Ok(Gender::Man));
        assert_eq!(
            YearsInSupport::parse("1–3 år"),
            Ok(YearsInSupport::From1To3)
        );
        assert_eq!(YearsInSupport::parse("9+"), Ok(YearsInSupport::Over9));
        assert_eq!(
            Outcome::parse("Annan arbetslivsinriktad insats"),
            Ok(Outcome::OtherVocational)
        );
    }

    #[test]
    fn unknown_value_names_field_and_accepted_codes() {
        let e = Outcome::parse("holiday").unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("outcome 'holiday'"), "{msg}");
        assert!(msg.contains("work (Arbete)"), "{msg}");
        assert!(Outcome::parse("").is_err());
    }

    #[test]
    fn no_two_values_of_a_list_share_a_spelling() {
        fn check<C: Code + std::fmt::Debug>() {
            for &a in C::ALL {
                for &b in C::ALL {
                    if a != b {
                        let spellings = |v: C| {
                            let mut s = vec![fold(v.code()), fold(v.sv()), fold(v.en())];
                            s.extend(v.aliases().iter().map(|x| fold(x)));
                            s
                        };
                        // Labels may coincide only when codes resolve to the first match
                        // deliberately; assert none do.
                        for x in spellings(a) {
                            assert!(!spellings(b).contains(&x), "{a:?} and {b:?} share '{x}'");
                        }
                    }
                }
            }
        }
        check::<Gender>();
        check::<Support>();
        check::<YearsInSupport>();
        check::<Education>();
        check::<Referrer>();
        check::<Outcome>();
        check::<StepProgress>();
        check::<QualityOfLife>();
        check::<InterventionKind>();
        check::<ActivityKind>();
        check::<Decision>();
    }
}
