//! Suppression of small counts for published reports (`--suppress-below N`,
//! SPEC section 6), over the whole report at once.
//!
//! Tables of one report share figures (the active total appears in five
//! tables, `support_transition`'s margins are `support_before_after`'s
//! totals, the work-or-studies numerator is `work` plus `studies` of
//! `outcome`, ...), so a count hidden in one table could be worked out from
//! another. [`system`] therefore writes the report as one system of linear
//! identities between its counts: a figure shown in several places is one
//! variable, every row, column and cross-table identity is a sum, and the
//! counts the identities need but the report never shows (those who did not
//! reach an indicator's goal, unknown answers, the slack in the bounds on
//! unique persons) are auxiliary unknowns.
//!
//! The reader is assumed to know every shown figure and every identity,
//! that counts are whole numbers, that a primarily suppressed count lies in
//! 1..=N-1, and what the report's shape says (a row shown only when
//! non-empty is at least 1; a missing one is 0).
//!
//! Primary: every count with 0 < n < N is hidden, and so are the people who
//! did not reach an indicator's goal when they are that few (the count is
//! never shown, but numerator and denominator would give it). Secondary:
//! while some hidden count is determined ([`solve`]: a count is safe only
//! when a second whole-number assignment of all unknowns, found by integer
//! programming and checked exactly, gives it another value), hide one more
//! shown count in an identity of each determined one: the smallest non-zero,
//! else a zero, looking further out through hidden counts when its own
//! identities have nothing left to hide. Counts are only ever added to the
//! hidden set, so the loop ends.
//!
//! Most determined counts are found without a search: an identity with one
//! unknown left, or bounds through the identities that close on a value.
//! The rounds therefore first use only those exact, cheap proofs, hiding
//! partners until they find nothing more; only then does a round run the
//! searches over everything not yet shown safe, and if that finds a
//! determined count, its partner is hidden and the cheap rounds resume.
//! The loop ends only after a round with the searches finds nothing, so
//! every hidden count not excused (below) has a witness, which stays valid
//! as more is hidden, or no shown count left to hide beside it.
//!
//! Derived figures follow their counts: a share is hidden with its cell or
//! its column total, and an indicator's share, "x av 10", phrase and
//! whether the target is met are hidden ("too few to report") when its
//! numerator or denominator is.
//!
//! Some counts no suppression can protect: with N = 2 a primary count can
//! only be 1 (the CLI refuses N < 3), and three primary cells, each at
//! least 1, under a primary total of at most 3 are 1 each, whatever else is
//! hidden. Counts pinned by the shown cells' primary bounds alone (with
//! every count hidden, pinned by the identities and bounds without a
//! search) are left out of the check; everything else hidden must have two
//! possible values. (A count that only a search would show pinned that way
//! is not excused: its protection is sought, hiding more; never less.)

mod solve;
pub mod system;

use super::Report;
use system::System;

/// Suppress a computed (not yet suppressed) report in place.
pub fn apply(report: &mut Report, n: u32) {
    let sys = system::build(report);
    let hidden = hidden_counts(&sys, n as u64);
    for (t, cells) in report.tables.iter_mut().zip(&sys.cells) {
        let last = cells.len() - 1;
        for (row, vars) in t.rows.iter_mut().zip(cells) {
            for (v, &var) in row.values.iter_mut().zip(vars) {
                if hidden[var] {
                    *v = None;
                }
            }
            if let Some(shares) = &mut row.shares {
                for (c, s) in shares.iter_mut().enumerate() {
                    if hidden[vars[c]] || hidden[cells[last][c]] {
                        *s = None;
                    }
                }
            }
        }
        for (v, &var) in t.total.iter_mut().zip(&cells[last]) {
            if hidden[var] {
                *v = None;
            }
        }
    }
    for (i, &(num, den)) in report.indicators.iter_mut().zip(&sys.indicators) {
        if hidden[num] {
            i.numerator = None;
        }
        if hidden[den] {
            i.denominator = None;
        }
        if hidden[num] || hidden[den] {
            i.share = None;
            i.of_ten = None;
            i.phrase = None;
            i.met = None;
            i.too_few = true;
        }
    }
    for (d, exits) in report.durations.iter_mut().zip(&sys.durations) {
        if exits.is_some_and(|v| hidden[v]) {
            d.exited = None;
            d.mean_days = None;
            d.median_days = None;
            d.too_few = true;
        }
    }
    if let (Some(x), Some(vars)) = (&mut report.reach, sys.reach) {
        for (v, var) in [
            &mut x.participants,
            &mut x.volume,
            &mut x.attendees,
            &mut x.total,
        ]
        .into_iter()
        .zip(vars)
        {
            if hidden[var] {
                *v = None;
            }
        }
    }
    if let (Some(w), Some(var)) = (&mut report.waiting, sys.waiting) {
        if hidden[var] {
            w.started = None;
            w.median_days = None;
            w.too_few = true;
        }
    }
    for (c, [participants, exits]) in report.cost.iter_mut().zip(&sys.cost) {
        // A cost per participant (or exit) and the actual cost give the
        // count: both go with it.
        if participants.is_some_and(|v| hidden[v]) {
            c.participants = None;
            c.per_participant = None;
            c.too_few[0] = true;
        }
        if exits.is_some_and(|v| hidden[v]) {
            c.exits = None;
            c.per_exit = None;
            c.too_few[1] = true;
        }
    }
    report.suppress_below = Some(n);
}

/// Which variables of the system the report hides (true), given N.
pub fn hidden_counts(sys: &System, n: u64) -> Vec<bool> {
    let count = sys.value.len();
    let primary: Vec<bool> = (0..count)
        .map(|v| {
            !sys.exempt[v]
                && (sys.published[v] || sys.counted[v])
                && sys.value[v] > 0
                && sys.value[v] < n
        })
        .collect();
    // What the reader knows of each count's range.
    let plain_lb = sys.lb.clone();
    let mut sys = sys.clone();
    let big = 2 * sys.value.iter().copied().max().unwrap_or(0) + n + 1;
    let mut ub = vec![big; count];
    for v in (0..count).filter(|&v| primary[v]) {
        sys.lb[v] = sys.lb[v].max(1);
        ub[v] = n - 1;
    }
    let mut hidden: Vec<bool> = (0..count).map(|v| primary[v] && sys.published[v]).collect();
    let sums_of = sys.sums_of();
    // A count once shown undetermined stays so as more is hidden (its
    // witness still fits, the newly hidden counts at their true values).
    let mut safe = vec![false; count];
    // Counts pinned by the bounds of primary cells alone (three primaries
    // that must be at least 1 each, under a primary total of at most 3)
    // stay pinned whatever else is hidden: hiding more cannot help them.
    // Only the published cells' bounds count here: the reader cannot know
    // that a count never shown is small, and granting that knowledge would
    // excuse counts from protection. Only proofs without a search excuse a
    // count: a search that gives up at its node limit proves nothing.
    let primaries: Vec<usize> = (0..count)
        .filter(|&v| primary[v] && sys.published[v] && sys.lb[v] < ub[v])
        .collect();
    if !primaries.is_empty() {
        let mut bare = sys.clone();
        let mut bare_ub = ub.clone();
        for v in (0..count).filter(|&v| primary[v] && !sys.published[v]) {
            bare.lb[v] = plain_lb[v];
            bare_ub[v] = big;
        }
        for v in solve::determined(&bare, &vec![false; count], &bare_ub, &primaries, true) {
            safe[v] = true;
        }
    }
    // Rounds with the cheap proofs only until they find nothing, then one
    // with the searches (see the module's documentation).
    let mut cheap = true;
    loop {
        let known: Vec<bool> = (0..count).map(|v| sys.published[v] && !hidden[v]).collect();
        let required: Vec<usize> = (0..count)
            .filter(|&v| {
                !known[v] && !safe[v] && (sys.published[v] || primary[v]) && sys.lb[v] < ub[v]
            })
            .collect();
        let determined = solve::determined(&sys, &known, &ub, &required, cheap);
        // A cheap round proves only that counts are determined, never that
        // the others are safe.
        if !cheap {
            for &v in &required {
                safe[v] = true;
            }
        }
        for &v in &determined {
            safe[v] = false;
        }
        let mut grown = vec![false; sys.sums.len()];
        let mut added = false;
        for d in determined {
            // One new hidden count per identity and round: it may free
            // several determined counts at once.
            if sums_of[d].iter().any(|&s| grown[s]) {
                continue;
            }
            if let Some(c) = partner(&sys, &sums_of, &hidden, d) {
                hidden[c] = true;
                for &s in &sums_of[c] {
                    grown[s] = true;
                }
                added = true;
            }
        }
        if !added {
            if cheap {
                cheap = false;
                continue;
            }
            return hidden;
        }
        cheap = true;
    }
}

/// The shown count to hide next to a determined one: in its identities the
/// smallest non-zero (else a zero), searching outwards through hidden
/// counts when they hold none.
fn partner(sys: &System, sums_of: &[Vec<usize>], hidden: &[bool], d: usize) -> Option<usize> {
    let mut seen_sums = vec![false; sys.sums.len()];
    let mut seen_vars = vec![false; sys.value.len()];
    let mut frontier = vec![d];
    seen_vars[d] = true;
    while !frontier.is_empty() {
        let mut next = Vec::new();
        let mut candidates = Vec::new();
        for &v in &frontier {
            for &s in &sums_of[v] {
                if std::mem::replace(&mut seen_sums[s], true) {
                    continue;
                }
                let sum = &sys.sums[s];
                for &w in sum.parts.iter().chain(std::iter::once(&sum.total)) {
                    if std::mem::replace(&mut seen_vars[w], true) {
                        continue;
                    }
                    if sys.published[w] && !hidden[w] {
                        if !sys.pinned[w] {
                            candidates.push(w);
                        }
                    } else {
                        next.push(w);
                    }
                }
            }
        }
        let best = candidates
            .iter()
            .copied()
            .min_by_key(|&w| (sys.value[w] == 0, sys.value[w], w));
        if best.is_some() {
            return best;
        }
        frontier = next;
    }
    None
}
