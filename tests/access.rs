//! SPEC section 11's role table as the domain enforces it, on the library
//! alone: what a staff member, a coordinator, an admin and an auditor get
//! from the functions the CLI and the server share. An enrolment outside a
//! staff member's interventions does not exist for them (the very text of
//! an unknown one, never "ambiguous", never "forbidden"); a role without an
//! action is `Forbidden`; and no refusal writes anything, not even an audit
//! row.

mod common;

use std::collections::BTreeSet;

use chrono::NaiveDate;
use sustrack::actor::{Actor, Role};
use sustrack::codes::{Gender, InterventionKind, Outcome};
use sustrack::error::{Error, Field};
use sustrack::identity::{luhn_check_digit, KdfProfile, Personnummer};
use sustrack::model::{parse_date, Enrolment, ExitFacts, Intervention, StartFacts};
use sustrack::register::{
    self, Edit, ExitInput, ExitTarget, Lookup, Participant, Person, StartInput, VolumeCounts,
};
use sustrack::report::{self, Options, Period};
use sustrack::store::{self, Memory, Store};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 6, 30).unwrap()
}

fn d(s: &str) -> NaiveDate {
    parse_date(s, Field::Date).unwrap()
}

fn owner() -> Actor {
    Actor::owner("cli:test")
}

fn user(login: &str, roles: &[Role], grants: &[&str]) -> Actor {
    Actor::user(
        login,
        roles.to_vec(),
        grants
            .iter()
            .map(|s| s.to_string())
            .collect::<BTreeSet<_>>(),
    )
}

fn staff(grants: &[&str]) -> Actor {
    user("staff", &[Role::Staff], grants)
}

fn coordinator() -> Actor {
    user("coord", &[Role::Coordinator], &[])
}

fn admin() -> Actor {
    user("admin", &[Role::Admin], &[])
}

fn auditor() -> Actor {
    user("auditor", &[Role::Auditor], &[])
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

fn intervention(code: &str, parent: Option<&str>) -> Intervention {
    Intervention {
        code: code.into(),
        name: format!("Insats {code}"),
        parent: parent.map(String::from),
        kind: InterventionKind::Individual,
        target_work_studies: None,
        target_step: None,
        target_qol: None,
    }
}

/// Interventions A and B (children of P) and C, no enrolments.
fn setup() -> Memory {
    let mut db = Memory::open(KdfProfile::Test).unwrap();
    for (code, parent) in [("P", None), ("A", Some("P")), ("B", Some("P")), ("C", None)] {
        store::write(&mut db.conn, |tx| {
            register::intervention_add(tx, &owner(), intervention(code, parent))
        })
        .unwrap();
    }
    db
}

fn audit_rows(db: &Memory) -> i64 {
    db.conn
        .query_row("SELECT count(*) FROM audit", [], |r| r.get(0))
        .unwrap()
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
                .map(|i| common::cell(r.get_ref(i).unwrap()))
                .collect();
            out.push_str(&format!("{table}: {}\n", cells.join(" | ")));
        }
    }
    out
}

fn person(db: &Memory, p: &Personnummer) -> Participant {
    Participant::Person(Person::identify(p, &db.kdf, true, today()).unwrap())
}

fn anonymous() -> Participant {
    Participant::Anonymous {
        gender: Gender::Woman,
        birth_year: Some(1990),
        local_id: None,
    }
}

fn start_as(
    db: &mut Memory,
    actor: &Actor,
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
        register::start(tx, actor, today(), input)
    })
}

fn start_person(
    db: &mut Memory,
    actor: &Actor,
    code: &str,
    p: &Personnummer,
    date: &str,
) -> sustrack::error::Result<Enrolment> {
    let who = person(db, p);
    start_as(db, actor, code, who, date)
}

fn exit_input(date: &str) -> ExitInput {
    ExitInput {
        date: d(date),
        outcome: Outcome::Work,
        after: ExitFacts::default(),
    }
}

fn fix_start(date: &str) -> Edit {
    Edit {
        start: Some(d(date)),
        ..Edit::default()
    }
}

/// An enrolment written straight to the store, with an id of our choosing.
fn insert_with_id(db: &mut Memory, id: &str, code: &str) {
    let e = Enrolment {
        id: id.into(),
        intervention: code.into(),
        person_id: None,
        local_id: None,
        gender: Gender::Man,
        birth_year: Some(1985),
        start: d("2024-01-10"),
        exit: None,
        facts: StartFacts::default(),
        outcome: None,
        after: ExitFacts::default(),
    };
    store::write(&mut db.conn, |tx| store::enrolments::insert(tx, &e)).unwrap();
}

fn not_found(r: sustrack::error::Result<impl std::fmt::Debug>) -> String {
    match r {
        Err(Error::NotFound(m)) => m,
        other => panic!("expected NotFound, got {other:?}"),
    }
}

fn forbidden(r: sustrack::error::Result<impl std::fmt::Debug>) -> String {
    match r {
        Err(Error::Forbidden(m)) => m,
        other => panic!("expected Forbidden, got {other:?}"),
    }
}

/// Every register function, as `actor`, on the enrolment `id`: each must
/// be refused. Returns the refusals.
fn every_action_on(
    db: &mut Memory,
    actor: &Actor,
    id: &str,
) -> Vec<sustrack::error::Result<Vec<Enrolment>>> {
    let one = |r: sustrack::error::Result<Enrolment>| r.map(|e| vec![e]);
    vec![
        store::write(&mut db.conn, |tx| {
            register::show(tx, actor, &Lookup::Id(id.into()))
        }),
        one(store::write(&mut db.conn, |tx| {
            register::exit(
                tx,
                actor,
                today(),
                &ExitTarget::Id(id.into()),
                exit_input("2024-05-01"),
            )
        })),
        one(store::write(&mut db.conn, |tx| {
            register::edit(tx, actor, today(), id, fix_start("2024-01-02"))
        })),
        one(store::write(&mut db.conn, |tx| {
            register::reopen(tx, actor, id)
        })),
        store::write(&mut db.conn, |tx| register::delete(tx, actor, id)).map(|d| vec![d.enrolment]),
    ]
}

#[test]
fn a_staff_member_cannot_reach_another_interventions_enrolment_by_id_or_prefix() {
    let mut db = setup();
    let b = start_as(&mut db, &owner(), "B", anonymous(), "2024-02-01").unwrap();
    // Exited, so a reopen would otherwise be possible too.
    store::write(&mut db.conn, |tx| {
        register::exit(
            tx,
            &owner(),
            today(),
            &ExitTarget::Id(b.id.clone()),
            exit_input("2024-03-01"),
        )
    })
    .unwrap();
    let staff_a = staff(&["A"]);
    let before = dump(&db);
    let nobody = "0123456789ab";
    for (given, long) in [(b.id.clone(), false), (b.id[..8].to_string(), true)] {
        let unknown_given = if long { &nobody[..8] } else { nobody };
        let expected = not_found(store::write(&mut db.conn, |tx| {
            register::show(tx, &staff_a, &Lookup::Id(unknown_given.into()))
        }));
        for r in every_action_on(&mut db, &staff_a, &given) {
            let m = not_found(r);
            assert_eq!(
                m.replace(&given.to_ascii_lowercase(), unknown_given),
                expected,
                "an enrolment of B reads differently from one that does not exist"
            );
        }
    }
    assert_eq!(dump(&db), before, "a refusal wrote something");
    // The owner (the CLI) and staff of B reach it.
    for actor in [owner(), staff(&["B"])] {
        let shown = store::write(&mut db.conn, |tx| {
            register::show(tx, &actor, &Lookup::Id(b.id[..8].into()))
        })
        .unwrap();
        assert_eq!(shown[0].id, b.id);
    }
}

#[test]
fn a_prefix_shared_with_an_invisible_enrolment_is_not_ambiguous() {
    let mut db = setup();
    let in_a = "abcdef00-0000-4000-8000-000000000001";
    let in_b = "abcdef00-0000-4000-8000-000000000002";
    insert_with_id(&mut db, in_a, "A");
    insert_with_id(&mut db, in_b, "B");
    // The owner sees both, so the prefix is ambiguous for them.
    let owner_says = store::write(&mut db.conn, |tx| {
        register::show(tx, &owner(), &Lookup::Id("abcdef".into()))
    });
    match owner_says {
        Err(Error::Invalid { field, reason }) => {
            assert_eq!(field, Some(Field::Enrolment));
            assert!(reason.contains("ambiguous"), "{reason}");
        }
        other => panic!("expected ambiguity, got {other:?}"),
    }
    // Staff of A get their own enrolment, staff of B theirs.
    for (grant, id) in [("A", in_a), ("B", in_b)] {
        let shown = store::write(&mut db.conn, |tx| {
            register::show(tx, &staff(&[grant]), &Lookup::Id("abcdef".into()))
        })
        .unwrap();
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].id, id);
        let edited = store::write(&mut db.conn, |tx| {
            register::edit(
                tx,
                &staff(&[grant]),
                today(),
                "abcdef",
                fix_start("2024-01-11"),
            )
        })
        .unwrap();
        assert_eq!(edited.id, id);
    }
    // Staff of C see neither: the prefix does not exist for them.
    let before = audit_rows(&db);
    let m = not_found(store::write(&mut db.conn, |tx| {
        register::show(tx, &staff(&["C"]), &Lookup::Id("abcdef".into()))
    }));
    assert_eq!(m, "no enrolment with id 'abcdef'");
    assert_eq!(audit_rows(&db), before);
    // The store's resolve, directly, with each scope.
    let scope = staff(&["A"])
        .scope(sustrack::actor::Action::Register)
        .unwrap();
    let e = store::enrolments::resolve_prefix(&db.conn, "abcdef00", &scope).unwrap();
    assert_eq!(e.id, in_a);
}

#[test]
fn a_person_enrolled_elsewhere_is_unknown_to_a_staff_member() {
    let mut db = setup();
    let only_b = pnr("19850312", 123);
    let in_both = pnr("19900101", 456);
    let never = pnr("19700707", 789);
    start_person(&mut db, &owner(), "B", &only_b, "2024-01-05").unwrap();
    let a = start_person(&mut db, &owner(), "A", &in_both, "2024-01-05").unwrap();
    let b_id = start_person(&mut db, &owner(), "B", &in_both, "2024-02-05")
        .unwrap()
        .id;
    let staff_a = staff(&["A"]);
    let fp = |p: &Personnummer| p.fingerprint(&db.kdf);
    let (fp_b, fp_both, fp_never) = (fp(&only_b), fp(&in_both), fp(&never));
    let before = dump(&db);

    let show = |db: &mut Memory, f| {
        store::write(&mut db.conn, |tx| {
            register::show(tx, &staff_a, &Lookup::Person(f))
        })
    };
    let exit = |db: &mut Memory, f, code: &str| {
        store::write(&mut db.conn, |tx| {
            register::exit(
                tx,
                &staff_a,
                today(),
                &ExitTarget::Person {
                    fingerprint: f,
                    intervention: code.into(),
                },
                exit_input("2024-06-01"),
            )
        })
    };
    let erase =
        |db: &mut Memory, f| store::write(&mut db.conn, |tx| register::erase(tx, &staff_a, &f));
    assert_eq!(
        not_found(show(&mut db, fp_b)),
        not_found(show(&mut db, fp_never))
    );
    assert_eq!(
        not_found(exit(&mut db, fp_b, "A")),
        not_found(exit(&mut db, fp_never, "A"))
    );
    assert_eq!(
        not_found(erase(&mut db, fp_b)),
        not_found(erase(&mut db, fp_never))
    );
    // An exit in B for a person staff of A do see: B reads as unknown.
    let in_b = not_found(exit(&mut db, fp_both, "B"));
    let in_nowhere = not_found(exit(&mut db, fp_both, "NOPE"));
    assert_eq!(in_b.replace("'B'", "'NOPE'"), in_nowhere);
    assert!(
        !in_b.contains("C"),
        "suggests an intervention not granted: {in_b}"
    );
    assert_eq!(dump(&db), before, "a refusal wrote something");

    // A person enrolled in A and B: only A's enrolment is listed.
    let shown = show(&mut db, fp_both).unwrap();
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].id, a.id);
    // The owner sees both.
    let all = store::write(&mut db.conn, |tx| {
        register::show(tx, &owner(), &Lookup::Person(fp_both))
    })
    .unwrap();
    assert_eq!(all.len(), 2);
    // Staff of A may erase the person they see: every enrolment goes,
    // but they are told of their own intervention's only (B's does not
    // exist for them).
    assert_eq!(erase(&mut db, fp_both).unwrap(), 1);
    let gone = store::write(&mut db.conn, |tx| {
        register::show(tx, &owner(), &Lookup::Person(fp_both))
    });
    assert!(matches!(gone, Err(Error::NotFound(_))), "{gone:?}");
    // (The audit trail keeps the id of B's start, which now leads nowhere.)
    let dumped = dump(&db);
    let left: Vec<&str> = dumped
        .lines()
        .filter(|l| !l.starts_with("audit:") && l.contains(&b_id))
        .collect();
    assert!(left.is_empty(), "B's enrolment is gone too: {left:?}");
    assert!(
        dumped
            .lines()
            .any(|l| l.starts_with("audit:") && l.contains(&b_id)),
        "the dump shows stored text, so the check above can fail"
    );
}

#[test]
fn staff_register_in_their_own_interventions_only() {
    let mut db = setup();
    let staff_a = staff(&["A"]);
    let before = dump(&db);
    let to_b = not_found(start_as(&mut db, &staff_a, "B", anonymous(), "2024-01-01"));
    let to_none = not_found(start_as(
        &mut db,
        &staff_a,
        "NOPE",
        anonymous(),
        "2024-01-01",
    ));
    assert_eq!(to_b.replace("'B'", "'NOPE'"), to_none);
    assert_eq!(to_b, "unknown intervention 'B': known are A");
    assert_eq!(dump(&db), before);

    let e = start_as(&mut db, &staff_a, "A", anonymous(), "2024-01-01").unwrap();
    // Moving an own enrolment into B is as if B did not exist.
    let before = dump(&db);
    let moved = store::write(&mut db.conn, |tx| {
        register::edit(
            tx,
            &staff_a,
            today(),
            &e.id,
            Edit {
                intervention: Some("B".into()),
                ..Edit::default()
            },
        )
    });
    assert_eq!(not_found(moved), to_b);
    assert_eq!(dump(&db), before);
    // A grant on the parent covers the children (grants come expanded).
    let staff_p = staff(&["P", "A", "B"]);
    start_as(&mut db, &staff_p, "B", anonymous(), "2024-01-01").unwrap();
}

#[test]
fn roles_without_registration_are_forbidden_to_register() {
    let mut db = setup();
    let e = start_as(&mut db, &owner(), "A", anonymous(), "2024-01-01").unwrap();
    let p = pnr("19850312", 123);
    start_person(&mut db, &owner(), "A", &p, "2024-01-01").unwrap();
    let fp = p.fingerprint(&db.kdf);
    let before = dump(&db);
    for actor in [coordinator(), admin(), auditor()] {
        forbidden(start_as(&mut db, &actor, "A", anonymous(), "2024-02-01"));
        // Register actions (exit, edit, reopen, delete) are refused for the
        // role, even on an id that exists nowhere: the role comes first.
        for r in every_action_on(&mut db, &actor, &e.id)
            .into_iter()
            .skip(1)
            .chain(
                every_action_on(&mut db, &actor, "ffffffff")
                    .into_iter()
                    .skip(1),
            )
        {
            forbidden(r);
        }
        forbidden(store::write(&mut db.conn, |tx| {
            register::erase(tx, &actor, &fp)
        }));
    }
    // Coordinators read enrolments; admins and auditors do not.
    store::write(&mut db.conn, |tx| {
        register::show(tx, &coordinator(), &Lookup::Id(e.id.clone()))
    })
    .unwrap();
    let after_coordinator = dump(&db);
    for actor in [admin(), auditor()] {
        forbidden(store::write(&mut db.conn, |tx| {
            register::show(tx, &actor, &Lookup::Id(e.id.clone()))
        }));
    }
    assert_eq!(dump(&db), after_coordinator);
    assert_ne!(
        before, after_coordinator,
        "the coordinator's read is audited"
    );
}

#[test]
fn the_other_actions_follow_the_role_table() {
    let mut db = setup();
    let dir = tempfile::tempdir().unwrap();
    let before = dump(&db);
    for actor in [staff(&["A"]), coordinator(), auditor()] {
        let file = dir.path().join("copy.db");
        forbidden(register::backup(&mut db.conn, &actor, &file));
        assert!(!file.exists(), "a refused backup left a file");
    }
    for actor in [staff(&["A"]), auditor()] {
        forbidden(store::write(&mut db.conn, |tx| {
            register::intervention_add(tx, &actor, intervention("D", None))
        }));
        forbidden(store::write(&mut db.conn, |tx| {
            register::volume_add(
                tx,
                &actor,
                today(),
                "A",
                VolumeCounts {
                    month: (2024, 1),
                    women: 1,
                    men: 1,
                },
                false,
            )
        }));
    }
    forbidden(store::write(&mut db.conn, |tx| {
        register::log(tx, &staff(&["A"]), 10)
    }));
    assert_eq!(dump(&db), before);
    for actor in [admin(), coordinator(), auditor()] {
        store::write(&mut db.conn, |tx| register::log(tx, &actor, 10)).unwrap();
    }
    store::write(&mut db.conn, |tx| {
        register::intervention_add(tx, &coordinator(), intervention("D", None))
    })
    .unwrap();
    let file = dir.path().join("admin.db");
    register::backup(&mut db.conn, &admin(), &file).unwrap();
    assert!(file.exists());

    // The interventions each may see.
    let codes = |actor: &Actor| -> Vec<String> {
        register::interventions_for(&db.conn, actor)
            .unwrap()
            .into_iter()
            .map(|i| i.code)
            .collect()
    };
    assert_eq!(codes(&staff(&["A", "C"])), ["A", "C"]);
    assert_eq!(codes(&coordinator()), ["A", "B", "C", "D", "P"]);
    assert_eq!(codes(&admin()), codes(&coordinator()));
    forbidden(register::interventions_for(&db.conn, &auditor()));
}

#[test]
fn the_staff_list_shows_open_and_recent_enrolments_of_one_intervention() {
    let mut db = setup();
    let open_old = start_as(&mut db, &owner(), "A", anonymous(), "2023-01-01").unwrap();
    let open_new = start_as(&mut db, &owner(), "A", anonymous(), "2024-03-01").unwrap();
    let recent = start_as(&mut db, &owner(), "A", anonymous(), "2024-02-01").unwrap();
    let long_ago = start_as(&mut db, &owner(), "A", anonymous(), "2023-02-01").unwrap();
    start_as(&mut db, &owner(), "B", anonymous(), "2024-03-01").unwrap();
    for (e, date) in [(&recent, "2024-06-10"), (&long_ago, "2023-06-01")] {
        store::write(&mut db.conn, |tx| {
            register::exit(
                tx,
                &owner(),
                today(),
                &ExitTarget::Id(e.id.clone()),
                exit_input(date),
            )
        })
        .unwrap();
    }
    let list = |db: &mut Memory, actor: &Actor, code: &str| {
        store::write(&mut db.conn, |tx| {
            register::list_enrolments(tx, actor, code, today(), 30)
        })
    };
    let before = audit_rows(&db);
    let ids: Vec<String> = list(&mut db, &staff(&["A"]), "a")
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(
        ids,
        [&open_new.id, &recent.id, &open_old.id].map(String::clone)
    );
    assert_eq!(audit_rows(&db), before + 1);
    let entry = &sustrack::store::audit::recent(&db.conn, 1).unwrap()[0];
    assert_eq!(
        (
            entry.actor.as_str(),
            entry.action.as_str(),
            entry.subject.as_deref()
        ),
        ("staff", "list", Some("A"))
    );
    // B, and an unknown code, are the same NotFound; nothing is recorded.
    let before = dump(&db);
    let b = not_found(list(&mut db, &staff(&["A"]), "B"));
    let none = not_found(list(&mut db, &staff(&["A"]), "NOPE"));
    assert_eq!(b.replace("'B'", "'NOPE'"), none);
    forbidden(list(&mut db, &admin(), "A"));
    assert_eq!(dump(&db), before);
    assert_eq!(list(&mut db, &coordinator(), "B").unwrap().len(), 1);
}

/// A file store with the sample data: VAGEN is the parent of VAGEN-UNG,
/// VAGEN-NY and VAGEN-SJUK; ARBTEAM and HALSA stand alone.
fn demo_store(dir: &tempfile::TempDir) -> Store {
    let path = dir.path().join("demo.db");
    let store = Store::create(&path, KdfProfile::Test, &owner()).unwrap();
    sustrack::demo::load(&store, &owner()).unwrap();
    store
}

fn report_audit_rows(store: &Store) -> i64 {
    store
        .connect()
        .unwrap()
        .query_row(
            "SELECT count(*) FROM audit WHERE action = 'report'",
            [],
            |r| r.get(0),
        )
        .unwrap()
}

fn with_selection(codes: &[&str]) -> Options {
    let mut opts = Options::new(Period::year(2020).unwrap());
    opts.interventions = codes.iter().map(|s| s.to_string()).collect();
    opts
}

#[test]
fn a_staff_report_covers_their_interventions_only() {
    let dir = tempfile::tempdir().unwrap();
    let store = demo_store(&dir);
    let young = staff(&["VAGEN-UNG"]);
    let run =
        |actor: &Actor, codes: &[&str]| report::run(&store, actor, &with_selection(codes), "json");

    // No selection means their own interventions, exactly as a coordinator
    // would see those.
    let own = run(&young, &[]).unwrap();
    let as_coordinator = run(&coordinator(), &["VAGEN-UNG"]).unwrap();
    assert_eq!(own, as_coordinator);
    assert_eq!(own.interventions, ["VAGEN-UNG"]);
    let everything = run(&coordinator(), &[]).unwrap();
    assert_ne!(
        own.table("participation").unwrap().total,
        everything.table("participation").unwrap().total,
        "the sample data should tell the two apart"
    );
    assert_eq!(run(&young, &["vagen-ung"]).unwrap(), own);

    // A sibling, the parent (which would bring the siblings), a mixed
    // selection: all read as an unknown code, and no report is recorded.
    let before = report_audit_rows(&store);
    let unknown = not_found(run(&young, &["NOPE"]));
    for codes in [
        &["VAGEN-NY"][..],
        &["VAGEN"],
        &["VAGEN-UNG", "ARBTEAM"],
        &["VAGEN-UNG", "VAGEN"],
    ] {
        let refused = codes.iter().find(|c| **c != "VAGEN-UNG").unwrap();
        let m = not_found(run(&young, codes));
        assert_eq!(
            m.replace(&format!("'{refused}'"), "'NOPE'"),
            unknown,
            "{codes:?}"
        );
    }
    assert_eq!(report_audit_rows(&store), before);

    // A grant on the parent, expanded, reaches the parent's report.
    let parent = staff(&["VAGEN", "VAGEN-UNG", "VAGEN-NY", "VAGEN-SJUK"]);
    assert_eq!(
        run(&parent, &[]).unwrap(),
        run(&coordinator(), &["VAGEN"]).unwrap()
    );
    // A grant that was not expanded (a child added since) refuses the
    // parent rather than show the child's figures.
    let unexpanded = staff(&["VAGEN", "VAGEN-UNG"]);
    not_found(run(&unexpanded, &["VAGEN"]));
    not_found(run(&unexpanded, &[]));
    assert_eq!(run(&unexpanded, &["VAGEN-UNG"]).unwrap(), own);

    // Roles without reports; a staff member without grants.
    for actor in [admin(), auditor()] {
        forbidden(run(&actor, &[]));
    }
    not_found(run(&staff(&[]), &[]));
    assert_eq!(
        report_audit_rows(&store),
        before + 3,
        "the three reports made"
    );
}

#[test]
fn only_coordinators_export() {
    use sustrack::export::{self, ExportOptions};
    let dir = tempfile::tempdir().unwrap();
    let store = demo_store(&dir);
    let opts = ExportOptions {
        period: Period::year(2020).unwrap(),
        interventions: vec![],
        key: vec![7; 32],
        key_is_kept: false,
        k: 2,
    };
    let audit = || -> i64 {
        store
            .connect()
            .unwrap()
            .query_row("SELECT count(*) FROM audit", [], |r| r.get(0))
            .unwrap()
    };
    let before = audit();
    for actor in [staff(&["VAGEN-UNG"]), admin(), auditor()] {
        let mut out = Vec::new();
        forbidden(export::run(&store, &actor, &opts, &mut out));
        assert!(out.is_empty(), "a refused export wrote rows");
    }
    assert_eq!(audit(), before);
    let mut out = Vec::new();
    export::run(&store, &coordinator(), &opts, &mut out).unwrap();
    assert!(!out.is_empty());
    assert_eq!(audit(), before + 1);
}
