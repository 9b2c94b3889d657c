//! JSON in the shape of SPEC section 6. Values are numbers (never strings),
//! suppressed values are `null`, shares are rounded to four decimals and
//! indicator shares to three.

use serde_json::{json, Value};

use crate::codes::{Code, Outcome};
use crate::report::goals::Goal;
use crate::report::{Duration, Indicator, Report, DAYS_PER_MONTH, DAYS_PER_WEEK};

fn round(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (x * f).round() / f
}

pub fn to_value(r: &Report) -> Value {
    let tables: Vec<Value> = r
        .tables
        .iter()
        .map(|t| {
            let rows: Vec<Value> = t
                .rows
                .iter()
                .map(|row| {
                    let mut v = json!({"key": row.key, "label": row.label, "values": row.values});
                    if let Some(s) = &row.shares {
                        v["shares"] =
                            json!(s.iter().map(|x| x.map(|x| round(x, 4))).collect::<Vec<_>>());
                    }
                    if let Some(c) = &row.compare {
                        v["compare"] = json!(c);
                    }
                    if let Some(members) = &row.subtotal {
                        v["subtotal"] = json!(true);
                        v["members"] = json!(members);
                    }
                    if row.depth > 0 {
                        v["depth"] = json!(row.depth);
                    }
                    v
                })
                .collect();
            let mut v = json!({
                "id": t.id,
                "title": t.title,
                "columns": t.columns,
                "column_keys": t.column_keys,
                "rows": rows,
                "total": t.total,
            });
            if let Some(c) = &t.compare_total {
                v["compare_total"] = json!(c);
            }
            v
        })
        .collect();
    let indicators: Vec<Value> = r
        .indicators
        .iter()
        .map(|i| {
            let mut v = indicator(i);
            v["id"] = json!(i.id);
            v["name"] = json!(i.name);
            v["intervention"] = json!(i.intervention);
            v["gender"] = json!(i.gender);
            if i.subtotal {
                v["subtotal"] = json!(true);
            }
            v["target"] = json!(i.target.map(|t| round(t, 4)));
            // What counts as success, for a reader who checks the sums.
            if let Some(Goal::Outcomes(mask)) = r.defs.iter().find(|d| d.id == i.id).map(|d| d.goal)
            {
                let codes: Vec<&str> = Outcome::ALL
                    .iter()
                    .filter(|o| mask & (1 << o.index()) != 0)
                    .map(|o| o.code())
                    .collect();
                v["outcomes"] = json!(codes);
            }
            if let Some(c) = &i.compare {
                v["compare"] = indicator(c);
            }
            v
        })
        .collect();
    let durations: Vec<Value> = r
        .durations
        .iter()
        .map(|d| {
            let mut v = duration(d);
            v["intervention"] = json!(d.intervention);
            if d.subtotal {
                v["subtotal"] = json!(true);
            }
            if let Some(c) = &d.compare {
                v["compare"] = duration(c);
            }
            v
        })
        .collect();
    let mut v = json!({
        "period": {"from": r.period.from.to_string(), "to": r.period.to.to_string()},
        "interventions": r.interventions,
        "tables": tables,
        "indicators": indicators,
        "durations": durations,
    });
    if let Some(x) = &r.reach {
        v["reach"] = json!({
            "participants": x.participants,
            "volume": x.volume,
            "attendees": x.attendees,
            "total": x.total,
            "note": "a sum: one person may be counted more than once",
        });
    }
    if let Some(w) = &r.waiting {
        v["waiting"] = json!({
            "started": w.started,
            "median_days": w.median_days,
            "too_few": w.too_few,
        });
    }
    if !r.cost.is_empty() {
        v["cost"] = json!(r
            .cost
            .iter()
            .map(|c| json!({
                "intervention": c.intervention,
                "years": c.years,
                "budget": c.budget,
                "actual": c.actual,
                "deviation": c.deviation(),
                "participants": c.participants,
                "per_participant": c.per_participant,
                "exits_work_or_studies": c.exits,
                "per_exit": c.per_exit,
                "too_few": c.too_few[0] || c.too_few[1],
            }))
            .collect::<Vec<_>>());
    }
    if let Some(c) = r.compare {
        v["compare_period"] = json!({"from": c.from.to_string(), "to": c.to.to_string()});
    }
    if let Some(n) = r.suppress_below {
        v["suppress_below"] = json!(n);
    }
    v
}

/// An indicator's figures (also the comparison's).
fn indicator(i: &Indicator) -> Value {
    json!({
        "numerator": i.numerator,
        "denominator": i.denominator,
        "share": i.share.map(|s| round(s, 3)),
        "of_ten": i.of_ten,
        "phrase": i.phrase,
        "met": i.met,
        "too_few": i.too_few,
    })
}

/// Time in the intervention: days, and weeks and months with one decimal.
fn duration(d: &Duration) -> Value {
    let per = |x: Option<f64>, unit: f64| x.map(|x| round(x / unit, 1));
    json!({
        "exited": d.exited,
        "mean_days": d.mean_days.map(|x| round(x, 1)),
        "median_days": d.median_days,
        "mean_weeks": per(d.mean_days, DAYS_PER_WEEK),
        "median_weeks": per(d.median_days, DAYS_PER_WEEK),
        "mean_months": per(d.mean_days, DAYS_PER_MONTH),
        "median_months": per(d.median_days, DAYS_PER_MONTH),
        "too_few": d.too_few,
    })
}

pub fn render(r: &Report) -> String {
    let mut s = serde_json::to_string_pretty(&to_value(r)).expect("a JSON value always serialises");
    s.push('\n');
    s
}
