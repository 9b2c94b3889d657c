//! The rules of registration, tested on the library alone (no binary): each
//! rule's good path and its refusal, with the error's kind and field, and
//! the database unchanged after every refusal. Also the upgrade of a
//! version-1 audit trail that held values.

use chrono::NaiveDate;
use sustrack::actor::Actor;
use sustrack::codes::{Gender, InterventionKind, Outcome};
use sustrack::error::{Error, Field};
use sustrack::identity::{luhn_check_digit, KdfProfile, Personnummer};
use sustrack::model::{parse_date, Enrolment, ExitFacts, Intervention, StartFacts};
use sustrack::register::{
    self, Edit, ExitInput, ExitTarget, Lookup, Participant, Person, StartInput, VolumeCounts,
};
use sustrack::store::{self, Memory};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 6, 30).unwrap()
}

fn d(s: &str) -> NaiveDate {
    parse_date(s, Field::Date).unwrap()
}

fn actor() -> Actor {
    Actor::owner("tester")
}

/// A synthetic personnummer with a valid check digit.
fn pnr(yyyymmdd: &str, serial: u32) -> Personnummer {
    let nine: Vec<u8> = format!("{}{serial:03}", &yyyymmdd[2..])
        .bytes()
        .map(|b| b - b'0')
        .collect();
    let text = format!("{yyyymmdd}-{serial:03}{}", luhn_check_digit(&nine));
    Personnummer::parse(&text, today()).unwrap()
}

/// Every row of every table, to show a refusal wrote nothing.
fn dump(db: &Memory) -> String {
    let mut out = String::new();
    for table in ["intervention", "person", "enrolment", "volume", "audit"] {
        let mut stmt = db
            .conn
            .prepare(&format!("SELECT * FROM {table} ORDER BY 1"))
            .unwrap();
        let n = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            let cells: Vec<String> = (0..n)
                .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                .collect();
            out.push_str(&format!("{table}: {}\n", cells.join(" | ")));
        }
    }
    out
}

fn intervention(code: &str, kind: InterventionKind) -> Intervention {
    Intervention {
        code: code.into(),
        name: format!("Insats {code}"),
        parent: None,
        kind,
        target_work_studies: None,
        target_step: None,
        target_qol: None,
    }
}

fn setup() -> Memory {
    let mut db = Memory::open(KdfProfile::Test).unwrap();
    for (c, k) in [
        ("ALLIN", InterventionKind::Individual),
        ("STEG", InterventionKind::Individual),
        ("OPEN", InterventionKind::Volume),
    ] {
        store::write(&mut db.conn, |tx| {
            register::intervention_add(tx, &actor(), intervention(c, k))
        })
        .unwrap();
    }
    db
}

fn person(db: &Memory, p: &Personnummer) -> Participant {
    Participant::Person(Person::identify(p, &db.kdf, true, today()).unwrap())
}

fn start_person(
    db: &mut Memory,
    code: &str,
    p: &Personnummer,
    date: &str,
) -> sustrack::error::Result<Enrolment> {
    let who = person(db, p);
    start(db, code, who, date)
}

fn anonymous(birth_year: Option<i32>) -> Participant {
    Participant::Anonymous {
        gender: Gender::Woman,
        birth_year,
        local_id: None,
    }
}

fn start(
    db: &mut Memory,
    code: &str,
    who: Participant,
    date: &str,
) -> sustrack::error::Result<Enrolment> {
    let input = StartInput {
        intervention: code.into(),
        participant: who,
        date: d(date),
        facts: StartFacts::default(),
    };
    store::write(&mut db.conn, |tx| {
        register::start(tx, &actor(), today(), input)
    })
}

fn exit(db: &mut Memory, id: &str, date: &str) -> sustrack::error::Result<Enrolment> {
    let input = ExitInput {
        date: d(date),
        outcome: Outcome::Work,
        after: ExitFacts::default(),
    };
    store::write(&mut db.conn, |tx| {
        register::exit(tx, &actor(), today(), &ExitTarget::Id(id.into()), input)
    })
}

fn edit(db: &mut Memory, id: &str, e: Edit) -> sustrack::error::Result<Enrolment> {
    store::write(&mut db.conn, |tx| {
        register::edit(tx, &actor(), today(), id, e)
    })
}

/// `f` must fail with an error `check` accepts, and write nothing.
fn refused<T: std::fmt::Debug>(
    db: &mut Memory,
    f: impl FnOnce(&mut Memory) -> sustrack::error::Result<T>,
    check: impl FnOnce(&Error) -> bool,
) -> Error {
    let before = dump(db);
    let e = f(db).expect_err("the rule should refuse");
    assert!(check(&e), "unexpected error: {e:?}");
    assert_eq!(dump(db), before, "a refusal changed the database ({e})");
    e
}

fn invalid_in(field: Field) -> impl FnOnce(&Error) -> bool {
    move |e| matches!(e, Error::Invalid { field: Some(f), .. } if *f == field)
}

fn conflict(e: &Error) -> bool {
    matches!(e, Error::Conflict(_))
}

fn not_found(e: &Error) -> bool {
    matches!(e, Error::NotFound(_))
}

fn audit_rows(db: &Memory) -> Vec<(String, Option<String>, Option<String>)> {
    let mut stmt = db
        .conn
        .prepare("SELECT action, subject, detail FROM audit ORDER BY id")
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap();
    rows.collect::<Result<_, _>>().unwrap()
}

#[test]
fn a_personnummer_needs_consent_and_the_person_keeps_its_date() {
    let mut db = setup();
    let p = pnr("19850612", 242);
    let e = Person::identify(&p, &db.kdf, false, today()).unwrap_err();
    assert_eq!(e.field(), Some(Field::Consent), "{e}");
    assert!(
        !e.to_string().contains("--"),
        "a domain message names a flag: {e}"
    );
    let fp = p.fingerprint(&db.kdf);
    let e = Person::new(fp, Gender::Woman, d("1985-06-12"), false, today()).unwrap_err();
    assert_eq!(e.field(), Some(Field::Consent));

    let who = person(&db, &p);
    start(&mut db, "ALLIN", who, "2021-01-10").unwrap();
    let consent: String = db
        .conn
        .query_row("SELECT consent_date FROM person", [], |r| r.get(0))
        .unwrap();
    assert_eq!(consent, today().to_string());
}

#[test]
fn dates_are_not_in_the_future_nor_before_birth() {
    let mut db = setup();
    let p = pnr("19900615", 242);
    let who = person(&db, &p);
    let e = refused(
        &mut db,
        |db| start(db, "ALLIN", who.clone(), "2024-07-01"),
        invalid_in(Field::Date),
    );
    assert!(e.to_string().contains("in the future"), "{e}");
    // The full birth date counts, not only the year, and is not echoed.
    let e = refused(
        &mut db,
        |db| start(db, "ALLIN", who.clone(), "1990-06-14"),
        invalid_in(Field::Date),
    );
    assert!(
        e.to_string()
            .contains("before the participant's birth date"),
        "{e}"
    );
    assert!(!e.to_string().contains("06-15"), "{e}");
    start(&mut db, "ALLIN", who, "1990-06-15").unwrap();

    // An anonymous birth year: a start in an earlier year is refused.
    let e = refused(
        &mut db,
        |db| start(db, "STEG", anonymous(Some(2001)), "2000-12-31"),
        invalid_in(Field::Date),
    );
    assert!(e.to_string().contains("2001"), "{e}");
    start(&mut db, "STEG", anonymous(Some(2001)), "2001-01-01").unwrap();
    // And a birth year out of range.
    refused(
        &mut db,
        |db| start(db, "STEG", anonymous(Some(1850)), "2001-01-01"),
        invalid_in(Field::BirthYear),
    );
    refused(
        &mut db,
        |db| start(db, "STEG", anonymous(Some(2025)), "2024-01-01"),
        invalid_in(Field::BirthYear),
    );
}

#[test]
fn a_local_id_that_could_be_a_personnummer_is_refused() {
    let mut db = setup();
    for bad in ["8506122428", "a b", ""] {
        let who = Participant::Anonymous {
            gender: Gender::Man,
            birth_year: None,
            local_id: Some(bad.into()),
        };
        refused(
            &mut db,
            |db| start(db, "ALLIN", who, "2021-01-01"),
            invalid_in(Field::LocalId),
        );
    }
    let who = Participant::Anonymous {
        gender: Gender::Man,
        birth_year: None,
        local_id: Some("T-17".into()),
    };
    start(&mut db, "ALLIN", who, "2021-01-01").unwrap();
}

#[test]
fn an_unknown_intervention_is_not_found_and_the_nearest_is_suggested() {
    let mut db = setup();
    let e = refused(
        &mut db,
        |db| start(db, "ALIN", anonymous(None), "2021-01-01"),
        not_found,
    );
    // Few interventions: all are named.
    assert!(e.to_string().contains("known are ALLIN, OPEN, STEG"), "{e}");
    for n in 0..20 {
        store::write(&mut db.conn, |tx| {
            register::intervention_add(
                tx,
                &actor(),
                intervention(&format!("PROJ{n:02}"), InterventionKind::Individual),
            )
        })
        .unwrap();
    }
    let e = refused(
        &mut db,
        |db| start(db, "ALIN", anonymous(None), "2021-01-01"),
        not_found,
    );
    let text = e.to_string();
    assert!(text.contains("did you mean ALLIN?"), "{text}");
    assert!(!text.contains("PROJ"), "{text}");
    // A volume intervention takes no enrolments.
    refused(
        &mut db,
        |db| start(db, "OPEN", anonymous(None), "2021-01-01"),
        invalid_in(Field::Intervention),
    );
}

#[test]
fn overlapping_enrolments_conflict() {
    let mut db = setup();
    let p = pnr("19850612", 242);
    let first = start_person(&mut db, "ALLIN", &p, "2021-01-10").unwrap();
    let e = refused(
        &mut db,
        |db| start(db, "ALLIN", person(db, &p), "2021-02-01"),
        conflict,
    );
    assert!(
        e.to_string().contains("already has an open enrolment"),
        "{e}"
    );
    // Another intervention is fine, and so is a start after the exit.
    start_person(&mut db, "STEG", &p, "2021-02-01").unwrap();
    exit(&mut db, &first.id, "2021-03-01").unwrap();
    refused(
        &mut db,
        |db| start(db, "ALLIN", person(db, &p), "2021-03-01"),
        conflict,
    );
    start_person(&mut db, "ALLIN", &p, "2021-03-02").unwrap();
}

#[test]
fn exits_refuse_what_cannot_be() {
    let mut db = setup();
    let e = start(&mut db, "ALLIN", anonymous(None), "2021-01-10").unwrap();
    let err = refused(
        &mut db,
        |db| exit(db, &e.id, "2021-01-09"),
        invalid_in(Field::Date),
    );
    assert!(err.to_string().contains("before the start date"), "{err}");
    refused(
        &mut db,
        |db| exit(db, &e.id, "2024-07-01"),
        invalid_in(Field::Date),
    );
    refused(&mut db, |db| exit(db, "abcdef12", "2021-02-01"), not_found);
    refused(
        &mut db,
        |db| exit(db, "abc", "2021-02-01"),
        invalid_in(Field::Enrolment),
    );
    exit(&mut db, &e.id, "2021-02-01").unwrap();
    refused(&mut db, |db| exit(db, &e.id, "2021-02-02"), conflict);
    // By person: none registered.
    let fp = pnr("19700101", 123).fingerprint(&db.kdf);
    let before = dump(&db);
    let err = store::write(&mut db.conn, |tx| {
        register::exit(
            tx,
            &actor(),
            today(),
            &ExitTarget::Person {
                fingerprint: fp,
                intervention: "ALLIN".into(),
            },
            ExitInput {
                date: d("2021-02-01"),
                outcome: Outcome::Work,
                after: ExitFacts::default(),
            },
        )
    })
    .unwrap_err();
    assert!(not_found(&err), "{err:?}");
    assert_eq!(dump(&db), before);
}

#[test]
fn edits_keep_every_rule() {
    let mut db = setup();
    let p = pnr("19850612", 242);
    let e = start_person(&mut db, "ALLIN", &p, "2021-01-10").unwrap();
    let err = refused(
        &mut db,
        |db| edit(db, &e.id, Edit::default()),
        |e| matches!(e, Error::Invalid { field: None, .. }),
    );
    assert!(err.to_string().contains("nothing to change"), "{err}");
    refused(
        &mut db,
        |db| {
            edit(
                db,
                &e.id,
                Edit {
                    gender: Some(Gender::Man),
                    ..Edit::default()
                },
            )
        },
        invalid_in(Field::Gender),
    );
    refused(
        &mut db,
        |db| {
            edit(
                db,
                &e.id,
                Edit {
                    exit: Some(d("2021-01-01")),
                    outcome: Some(Outcome::Work),
                    ..Edit::default()
                },
            )
        },
        invalid_in(Field::ExitDate),
    );
    refused(
        &mut db,
        |db| {
            edit(
                db,
                &e.id,
                Edit {
                    start: Some(d("1984-12-31")),
                    ..Edit::default()
                },
            )
        },
        invalid_in(Field::StartDate),
    );
    refused(
        &mut db,
        |db| {
            edit(
                db,
                &e.id,
                Edit {
                    outcome: Some(Outcome::Work),
                    ..Edit::default()
                },
            )
        },
        invalid_in(Field::ExitDate),
    );
    let moved = edit(
        &mut db,
        &e.id,
        Edit {
            start: Some(d("2021-01-05")),
            ..Edit::default()
        },
    )
    .unwrap();
    assert_eq!(moved.start, d("2021-01-05"));
}

#[test]
fn moving_an_enrolment_follows_the_rules_of_a_start_there() {
    let mut db = setup();
    let p = pnr("19850612", 242);
    let wrong = start_person(&mut db, "ALLIN", &p, "2021-01-10").unwrap();
    let there = start_person(&mut db, "STEG", &p, "2021-01-01").unwrap();
    let to = |code: &str| Edit {
        intervention: Some(code.into()),
        ..Edit::default()
    };
    // STEG already has the person open: moving there would overlap.
    let e = refused(&mut db, |db| edit(db, &wrong.id, to("STEG")), conflict);
    assert!(e.to_string().contains("open enrolment"), "{e}");
    refused(
        &mut db,
        |db| edit(db, &wrong.id, to("OPEN")),
        invalid_in(Field::Intervention),
    );
    refused(&mut db, |db| edit(db, &wrong.id, to("NOPE")), not_found);
    exit(&mut db, &there.id, "2021-01-05").unwrap();
    let moved = edit(&mut db, &wrong.id, to("steg")).unwrap();
    assert_eq!(moved.intervention, "STEG");
    let last = audit_rows(&db).pop().unwrap();
    assert_eq!(last.0, "edit");
    assert_eq!(last.2.as_deref(), Some("intervention"));
}

#[test]
fn reopen_needs_an_exit() {
    let mut db = setup();
    let e = start(&mut db, "ALLIN", anonymous(None), "2021-01-10").unwrap();
    refused(
        &mut db,
        |db| store::write(&mut db.conn, |tx| register::reopen(tx, &actor(), &e.id)),
        conflict,
    );
}

#[test]
fn delete_removes_one_enrolment_and_a_person_left_with_none() {
    let mut db = setup();
    let p = pnr("19850612", 242);
    let a = start_person(&mut db, "ALLIN", &p, "2021-01-10").unwrap();
    let b = start_person(&mut db, "STEG", &p, "2021-01-10").unwrap();
    let del = |db: &mut Memory, id: &str| {
        store::write(&mut db.conn, |tx| register::delete(tx, &actor(), id))
    };
    refused(&mut db, |db| del(db, "abcdef12"), not_found);
    let first = del(&mut db, &a.id).unwrap();
    assert!(!first.person_removed);
    let persons = |db: &Memory| -> i64 {
        db.conn
            .query_row("SELECT count(*) FROM person", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(persons(&db), 1);
    let second = del(&mut db, &b.id).unwrap();
    assert!(second.person_removed, "no orphan fingerprint remains");
    assert_eq!(persons(&db), 0);
    let n: i64 = db
        .conn
        .query_row("SELECT count(*) FROM enrolment", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0);
    let deletes: Vec<_> = audit_rows(&db)
        .into_iter()
        .filter(|r| r.0 == "delete")
        .collect();
    assert_eq!(deletes.len(), 2);
    assert_eq!(deletes[0].1.as_deref(), Some(a.id.as_str()));
    assert_eq!(deletes[0].2, None);
}

#[test]
fn the_audit_trail_names_fields_never_values_so_erase_leaves_nothing() {
    let mut db = setup();
    let p = pnr("19850612", 242);
    let e = start_person(&mut db, "ALLIN", &p, "2021-01-10").unwrap();
    exit(&mut db, &e.id, "2021-03-17").unwrap();
    edit(
        &mut db,
        &e.id,
        Edit {
            municipality: Some(Some(
                sustrack::model::parse_municipality("Mellerud").unwrap(),
            )),
            ..Edit::default()
        },
    )
    .unwrap();
    let fp = p.fingerprint(&db.kdf);
    let n = store::write(&mut db.conn, |tx| register::erase(tx, &actor(), &fp)).unwrap();
    assert_eq!(n, 1);
    let trail = format!("{:?}", audit_rows(&db));
    for value in [
        "2021-01-10",
        "2021-03-17",
        "work",
        "Mellerud",
        "1985",
        "1 enrolment",
    ] {
        assert!(!trail.contains(value), "{value} in the trail: {trail}");
    }
    assert!(trail.contains("exit_date, outcome"), "{trail}");
    assert!(trail.contains("municipality"), "{trail}");
}

#[test]
fn show_and_log_are_recorded_reads() {
    let mut db = setup();
    let p = pnr("19850612", 242);
    let e = start_person(&mut db, "ALLIN", &p, "2021-01-10").unwrap();
    let fp = p.fingerprint(&db.kdf);
    let list = store::write(&mut db.conn, |tx| {
        register::show(tx, &actor(), &Lookup::Person(fp))
    })
    .unwrap();
    assert_eq!(list, vec![e.clone()]);
    let last = audit_rows(&db).pop().unwrap();
    assert_eq!(
        (last.0.as_str(), last.1.as_deref()),
        ("show", Some(e.short_id()))
    );
    let other = pnr("19700101", 123).fingerprint(&db.kdf);
    refused(
        &mut db,
        |db| {
            store::write(&mut db.conn, |tx| {
                register::show(tx, &actor(), &Lookup::Person(other))
            })
        },
        not_found,
    );
    let log = store::write(&mut db.conn, |tx| register::log(tx, &actor(), 3)).unwrap();
    assert_eq!(log.len(), 3);
    assert_eq!(log[0].action, "show");
    assert_eq!(audit_rows(&db).pop().unwrap().0, "log");
}

#[test]
fn interventions_check_code_name_targets_and_parent() {
    let mut db = setup();
    let add = |db: &mut Memory, i: Intervention| {
        store::write(&mut db.conn, |tx| {
            register::intervention_add(tx, &actor(), i)
        })
    };
    let base = intervention("NEW", InterventionKind::Individual);
    for (name, bad) in [
        ("red", "\u{1b}[31mred"),
        ("newline", "two\nlines"),
        ("bidi", "abc\u{202e}def"),
        ("zero width", "a\u{200b}b"),
    ] {
        let i = Intervention {
            name: bad.into(),
            ..base.clone()
        };
        let e = refused(&mut db, |db| add(db, i), invalid_in(Field::Name));
        assert!(!e.to_string().contains('\u{1b}'), "{name}: {e}");
    }
    refused(
        &mut db,
        |db| {
            add(
                db,
                Intervention {
                    target_step: Some(1.5),
                    ..base.clone()
                },
            )
        },
        invalid_in(Field::TargetStep),
    );
    refused(
        &mut db,
        |db| {
            add(
                db,
                Intervention {
                    parent: Some("NOPE".into()),
                    ..base.clone()
                },
            )
        },
        not_found,
    );
    refused(
        &mut db,
        |db| {
            add(
                db,
                Intervention {
                    code: "bad code".into(),
                    ..base.clone()
                },
            )
        },
        invalid_in(Field::Code),
    );
    refused(
        &mut db,
        |db| add(db, intervention("ALLIN", InterventionKind::Individual)),
        conflict,
    );
    add(
        &mut db,
        Intervention {
            name: "  Steg  för steg ".into(),
            parent: Some("allin".into()),
            target_step: Some(0.4),
            ..base.clone()
        },
    )
    .unwrap();
    let name: String = db
        .conn
        .query_row(
            "SELECT name FROM intervention WHERE code = 'NEW'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(name, "Steg för steg");
}

#[test]
fn volumes_are_registered_once_unless_replaced() {
    let mut db = setup();
    let add = |db: &mut Memory, code: &str, month: (i32, u32), replace: bool| {
        store::write(&mut db.conn, |tx| {
            register::volume_add(
                tx,
                &actor(),
                today(),
                code,
                VolumeCounts {
                    month,
                    women: 3,
                    men: 4,
                },
                replace,
            )
        })
    };
    add(&mut db, "OPEN", (2021, 3), false).unwrap();
    refused(&mut db, |db| add(db, "OPEN", (2021, 3), false), conflict);
    refused(
        &mut db,
        |db| add(db, "OPEN", (2024, 7), false),
        invalid_in(Field::Month),
    );
    refused(
        &mut db,
        |db| add(db, "ALLIN", (2021, 3), false),
        invalid_in(Field::Intervention),
    );
    refused(&mut db, |db| add(db, "NOPE", (2021, 3), false), not_found);
    add(&mut db, "OPEN", (2021, 3), true).unwrap();
    let last = audit_rows(&db).pop().unwrap();
    assert_eq!(last.0, "volume replace");
    assert_eq!(last.2.as_deref(), Some("2021-03: women, men"));
}

/// A register written by the binary of schema version 1 (commit dc08bf1,
/// see tests/fixtures/make_audit_v1.sh), whose audit trail holds dates,
/// outcomes, counts and a personnummer in a backup path.
#[test]
fn upgrading_removes_values_from_the_old_audit_trail_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    std::fs::copy("tests/fixtures/audit_v1.db", &path).unwrap();
    let old = |sql: &str| -> Vec<String> {
        let c = rusqlite::Connection::open(&path).unwrap();
        let mut stmt = c.prepare(sql).unwrap();
        let rows = stmt
            .query_map([], |r| r.get::<_, Option<String>>(0))
            .unwrap()
            .map(|r| r.unwrap().unwrap_or_default())
            .collect();
        rows
    };
    let before = old("SELECT coalesce(detail, '') FROM audit ORDER BY id").join("\n");
    assert!(
        before.contains("outcome work"),
        "the fixture holds values: {before}"
    );
    assert!(before.contains("19800315-2421"), "{before}");
    let enrolments_before =
        old("SELECT id || start_date || coalesce(exit_date, '') FROM enrolment ORDER BY id");

    let store = store::Store::open(&path, &actor()).unwrap();
    drop(store);
    let after =
        old("SELECT action || ': ' || coalesce(detail, '') FROM audit ORDER BY id").join("\n");
    for value in [
        "2021-01-10",
        "2021-03-01",
        "outcome work",
        "enrolment(s)",
        "19800315-2421",
        "12 women",
    ] {
        assert!(
            !after.contains(value),
            "{value} is still in the trail:\n{after}"
        );
    }
    assert!(after.contains("start: intervention, start_date"), "{after}");
    assert!(after.contains("exit: exit_date, outcome"), "{after}");
    assert!(
        after.contains("values removed from"),
        "the migration records itself:\n{after}"
    );
    // The data is untouched, the trail is append-only again, and a second
    // open changes nothing.
    assert_eq!(
        old("SELECT id || start_date || coalesce(exit_date, '') FROM enrolment ORDER BY id"),
        enrolments_before
    );
    let c = rusqlite::Connection::open(&path).unwrap();
    for sql in ["UPDATE audit SET detail = 'x'", "DELETE FROM audit"] {
        let err = c.execute(sql, []).unwrap_err().to_string();
        assert!(err.contains("append-only"), "{err}");
    }
    drop(c);
    store::Store::open(&path, &actor()).unwrap();
    let again =
        old("SELECT action || ': ' || coalesce(detail, '') FROM audit ORDER BY id").join("\n");
    assert_eq!(again, after);
}

/// A code or a name is printed in every list, report and export: one that
/// holds a personnummer (or, for a code, a birth date) is refused.
#[test]
fn an_intervention_code_or_name_holding_a_personnummer_is_refused() {
    for code in ["19800315-2421", "8003152421", "X19800315"] {
        let e = sustrack::model::parse_intervention_code(code).unwrap_err();
        assert_eq!(e.field(), Some(sustrack::error::Field::Code), "{code}");
        assert!(!e.to_string().contains("2421"), "{e}");
    }
    for name in ["Allin 19800315-2421", "Allin 800315_2421"] {
        let e = sustrack::model::parse_intervention_name(name).unwrap_err();
        assert_eq!(e.field(), Some(sustrack::error::Field::Name), "{name}");
    }
    assert!(sustrack::model::parse_intervention_name("ESF 2021-2023, Vägen vidare").is_ok());
    assert!(sustrack::model::parse_intervention_code("ESF-2021").is_ok());
}

#[test]
fn a_look_up_by_personnummer_is_recorded_even_when_it_finds_nothing() {
    let mut db = setup();
    let anna = pnr("19800101", 123);
    let stranger = pnr("19900202", 456);
    let e = start_person(&mut db, "ALLIN", &anna, "2024-01-02").unwrap();
    let staff_of_steg = Actor::user(
        "eva",
        vec![sustrack::actor::Role::Staff],
        ["STEG".to_string()].into_iter().collect(),
    );
    let staff_of_allin = Actor::user(
        "olle",
        vec![sustrack::actor::Role::Staff],
        ["ALLIN".to_string()].into_iter().collect(),
    );
    let find = |db: &mut Memory, who: &Actor, p: &Personnummer| {
        let fp = p.fingerprint(&db.kdf);
        store::write(&mut db.conn, |tx| register::find(tx, who, &fp)).unwrap()
    };
    let before = audit_rows(&db).len();
    // Outside the actor's interventions and unknown look the same: empty.
    assert!(find(&mut db, &staff_of_steg, &anna).is_empty());
    assert!(find(&mut db, &staff_of_steg, &stranger).is_empty());
    let found = find(&mut db, &staff_of_allin, &anna);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, e.id);
    let rows = audit_rows(&db);
    assert_eq!(rows.len(), before + 3, "every look-up is recorded");
    assert_eq!(rows[before], ("find".to_string(), None, None));
    assert_eq!(rows[before + 1], ("find".to_string(), None, None));
    assert_eq!(
        rows[before + 2],
        ("find".to_string(), Some(e.short_id().to_string()), None)
    );
    // A coordinator does not register, so does not look people up.
    let coordinator = Actor::user(
        "c",
        vec![sustrack::actor::Role::Coordinator],
        Default::default(),
    );
    let fp = anna.fingerprint(&db.kdf);
    let refused = store::write(&mut db.conn, |tx| register::find(tx, &coordinator, &fp));
    assert!(matches!(refused, Err(Error::Forbidden(_))), "{refused:?}");
}
