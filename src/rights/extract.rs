//! The register extract (registerutdrag, GDPR article 15): everything
//! stored about one person and who has looked at or changed it.
//!
//! What is stored about a person is the person row (gender, birth year,
//! the date consent was registered; the fingerprint is a one-way hash and
//! is never shown) and their enrolments, every field. The audit trail
//! names enrolments by id (changes) or short id (reads); every entry that
//! names one of the person's enrolments is listed. Lists of an
//! intervention's enrolments (which show no identity) and reports are not
//! about one person and are not listed; the extract says so.
//!
//! A staff member's extract covers the interventions they work in, and
//! says so: the rest of the register does not exist for them.

use chrono::NaiveDate;
use rusqlite::Connection;

use crate::actor::{Action, Actor, Scope};
use crate::codes::{Code, Gender, Lang};
use crate::error::{Error, Result};
use crate::identity::Fingerprint;
use crate::model::Enrolment;
use crate::register::{person_in, require};
use crate::report::render::html::esc;
use crate::store::audit::{self, AuditEntry};
use crate::store::{enrolments as store, rights as stored};

pub struct Extract {
    /// When the extract was made (UTC, RFC 3339).
    pub made_at: String,
    pub made_by: String,
    pub gender: Gender,
    pub birth_year: i32,
    pub consent_date: NaiveDate,
    pub enrolments: Vec<Enrolment>,
    /// The referral each enrolment came from, if any (SPEC 13: a referral
    /// holds no identity, but once it became the person's start it is
    /// about them).
    pub referrals: Vec<Option<crate::store::beyond::Referral>>,
    /// The audit entries about the enrolments, oldest first; the extract's
    /// own entry is the last.
    pub trail: Vec<AuditEntry>,
    /// Only the actor's interventions are covered.
    pub partial: bool,
}

pub fn extract(conn: &Connection, actor: &Actor, fingerprint: &Fingerprint) -> Result<Extract> {
    let scope = require(actor, Action::Register)?;
    let person = person_in(conn, fingerprint, &scope)?.ok_or_else(|| {
        Error::NotFound(
            "no person with that personnummer is registered; no extract was made".into(),
        )
    })?;
    let (gender, birth_year, consent_date) = stored::person_facts(conn, person)?;
    let mut enrolments = store::of_person(conn, person)?;
    enrolments.retain(|e| scope.covers(&e.intervention));
    let referrals = enrolments
        .iter()
        .map(|e| crate::store::beyond::referral_of_enrolment(conn, &e.id))
        .collect::<Result<Vec<_>>>()?;
    let mut ids: Vec<String> = enrolments.iter().map(|e| e.id.clone()).collect();
    let shorts: Vec<&str> = enrolments.iter().map(|e| e.short_id()).collect();
    audit::record(conn, actor, "extract", Some(&shorts.join(" ")), None)?;
    ids.extend(referrals.iter().flatten().map(|r| r.id.clone()));
    let trail = stored::audit_about(conn, &ids)?;
    Ok(Extract {
        made_at: trail.last().map(|e| e.at.clone()).unwrap_or_default(),
        made_by: actor.login.clone(),
        gender,
        birth_year,
        consent_date,
        enrolments,
        referrals,
        trail,
        partial: !matches!(scope, Scope::All),
    })
}

/// What an audit action means, in Swedish.
pub fn action_sv(action: &str) -> &str {
    match action {
        "start" => "registrerade start",
        "exit" => "registrerade avslut",
        "edit" => "rättade uppgifter",
        "reopen" => "ångrade avslut",
        "delete" => "tog bort felregistrering",
        "show" => "visade uppgifterna",
        "find" => "sökte fram personen",
        "extract" => "tog registerutdrag",
        "referral add" => "registrerade remiss",
        "referral decide" => "registrerade beslut om remiss",
        "referral undecide" => "ångrade beslut om remiss",
        "import" => "importerade",
        other => other,
    }
}

fn opt<C: Code>(v: Option<C>) -> String {
    v.map_or("–".to_string(), |c| c.label(Lang::Sv).to_string())
}

/// Each enrolment as (label, value) lines, every field, in Swedish.
pub fn fields(e: &Enrolment) -> Vec<(&'static str, String)> {
    vec![
        ("Insats", e.intervention.clone()),
        ("Registrerings-id", e.id.clone()),
        ("Kön", e.gender.label(Lang::Sv).to_string()),
        (
            "Födelseår",
            e.birth_year.map_or("–".into(), |y| y.to_string()),
        ),
        ("Startdatum", e.start.to_string()),
        ("Avslutsdatum", e.exit.map_or("–".into(), |d| d.to_string())),
        (
            "Kommun",
            e.facts
                .municipality
                .as_ref()
                .map_or("–".into(), |m| m.label().to_string()),
        ),
        ("Försörjning vid start", opt(e.facts.support)),
        ("Tid i offentlig försörjning", opt(e.facts.years_in_support)),
        ("Utbildning", opt(e.facts.education)),
        ("Remitterande aktör", opt(e.facts.referrer)),
        ("Avslut till", opt(e.outcome)),
        ("Försörjning efter avslut", opt(e.after.support_after)),
        ("Stegförflyttning", opt(e.after.step_progress)),
        ("Livskvalitet", opt(e.after.quality_of_life)),
    ]
}

impl Extract {
    /// The `n`th enrolment's fields, and the referral it came from.
    pub fn fields(&self, n: usize) -> Vec<(&'static str, String)> {
        let mut out = fields(&self.enrolments[n]);
        if let Some(Some(r)) = self.referrals.get(n) {
            out.extend([
                ("Remiss, id", r.id.clone()),
                ("Remiss mottagen", r.date.to_string()),
                ("Remiss: kön", r.gender.label(Lang::Sv).to_string()),
                (
                    "Remiss: födelseår",
                    r.birth_year.map_or("–".into(), |y| y.to_string()),
                ),
                (
                    "Remiss: kommun",
                    r.municipality
                        .as_ref()
                        .map_or("–".into(), |m| m.label().to_string()),
                ),
                ("Remiss: remittent", opt(r.referrer)),
                ("Remiss: beslut", opt(r.decision)),
                (
                    "Remiss: beslutsdatum",
                    r.decided.map_or("–".into(), |d| d.to_string()),
                ),
            ]);
        }
        out
    }
}

pub const TITLE: &str = "Registerutdrag ur sustrack";
pub const ABOUT: &str = "Det här är allt som finns lagrat om dig i samordningsförbundets uppföljningsregister, och vem som har registrerat, ändrat eller tittat på uppgifterna. Ditt personnummer lagras inte; registret känner igen dig med en envägskod som inte kan räknas tillbaka till numret.";
pub const PARTIAL: &str = "Utdraget omfattar de insatser som den som tog fram det arbetar i. Ett utdrag ur hela registret lämnas av förbundets samordnare.";
pub const NOT_LISTED: &str = "Listor över en insats deltagare (utan personnummer) och statistikrapporter gäller inte en enskild person och räknas inte upp här. Deltaganden som lästes in från en fil registrerades i en import, som loggas som en helhet utan att namnge enskilda deltaganden.";

pub fn text(x: &Extract) -> String {
    let mut out = format!(
        "{TITLE}\nFramtaget {} av {}\n\n{ABOUT}\n",
        x.made_at, x.made_by
    );
    if x.partial {
        out.push_str(&format!("{PARTIAL}\n"));
    }
    out.push_str(&format!(
        "\nUppgifter om personen\n  Kön: {}\n  Födelseår: {}\n  Samtycke registrerat: {}\n",
        x.gender.label(Lang::Sv),
        x.birth_year,
        x.consent_date
    ));
    for n in 0..x.enrolments.len() {
        out.push_str(&format!(
            "\nDeltagande {} av {}\n",
            n + 1,
            x.enrolments.len()
        ));
        for (label, value) in x.fields(n) {
            out.push_str(&format!("  {label}: {value}\n"));
        }
    }
    out.push_str("\nVem som har registrerat, ändrat eller tittat på uppgifterna\n");
    let rows: Vec<Vec<String>> = std::iter::once(
        ["Tid (UTC)", "Användare", "Vad", "Registrering"]
            .map(String::from)
            .to_vec(),
    )
    .chain(x.trail.iter().map(|e| {
        vec![
            e.at.clone(),
            e.actor.clone(),
            action_sv(&e.action).to_string(),
            e.subject.clone().unwrap_or_default(),
        ]
    }))
    .collect();
    out.push_str(&crate::report::render::text::grid(&rows));
    out.push_str(&format!("{NOT_LISTED}\n"));
    out
}

pub fn html(x: &Extract) -> String {
    let mut body = format!(
        "<h1>{TITLE}</h1>\n<p>Framtaget {} av {}</p>\n<p>{ABOUT}</p>\n",
        esc(&x.made_at),
        esc(&x.made_by)
    );
    if x.partial {
        body.push_str(&format!("<p><strong>{PARTIAL}</strong></p>\n"));
    }
    body.push_str(&format!(
        "<h2>Uppgifter om personen</h2>\n<dl><dt>Kön</dt><dd>{}</dd><dt>Födelseår</dt><dd>{}</dd><dt>Samtycke registrerat</dt><dd>{}</dd></dl>\n",
        esc(x.gender.label(Lang::Sv)),
        x.birth_year,
        x.consent_date
    ));
    for n in 0..x.enrolments.len() {
        body.push_str(&format!(
            "<h2>Deltagande {} av {}</h2>\n<dl>",
            n + 1,
            x.enrolments.len()
        ));
        for (label, value) in x.fields(n) {
            body.push_str(&format!("<dt>{label}</dt><dd>{}</dd>", esc(&value)));
        }
        body.push_str("</dl>\n");
    }
    body.push_str("<h2>Vem som har registrerat, ändrat eller tittat på uppgifterna</h2>\n<table><thead><tr><th scope=\"col\">Tid (UTC)</th><th scope=\"col\">Användare</th><th scope=\"col\">Vad</th><th scope=\"col\">Registrering</th></tr></thead><tbody>\n");
    for e in &x.trail {
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            esc(&e.at),
            esc(&e.actor),
            esc(action_sv(&e.action)),
            esc(e.subject.as_deref().unwrap_or(""))
        ));
    }
    body.push_str(&format!("</tbody></table>\n<p>{NOT_LISTED}</p>\n"));
    format!(
        "<!DOCTYPE html>\n<html lang=\"sv\">\n<head><meta charset=\"utf-8\"><title>{TITLE}</title>\
         <style>body{{font-family:sans-serif;max-width:48rem;margin:2rem auto;color:#111}}dl{{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}}dt{{font-weight:bold}}dd{{margin:0}}table{{border-collapse:collapse}}td,th{{border:1px solid #888;padding:.2rem .5rem;text-align:left}}@media print{{body{{margin:0}}}}</style>\
         </head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n"
    )
}
